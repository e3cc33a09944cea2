#!/usr/bin/env node
// After tsc: drop `private` members from the published declaration files. TypeScript lists them
// by name (without types) to keep classes nominal; wsforge's public classes are not meant to be
// implemented structurally by users, and their internals have no business in the types users
// read. @internal members are already gone (stripInternal in tsconfig.build.json).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../dist', import.meta.url).pathname;
const PRIVATE_MEMBER = /^\s*private (?:static )?(?:readonly )?(?:get |set )?[#\w$]+(?:\(.*\))?;\s*$/;

function strip(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out = [];
  for (const line of lines) {
    if (PRIVATE_MEMBER.test(line)) {
      // Its doc comment goes with it.
      if (out.length > 0 && /^\s*\/\*\*.*\*\/\s*$/.test(out[out.length - 1])) out.pop();
      else if (out.length > 0 && /^\s*\*\/\s*$/.test(out[out.length - 1])) {
        while (out.length > 0 && !/^\s*\/\*\*/.test(out[out.length - 1])) out.pop();
        out.pop();
      }
      continue;
    }
    out.push(line);
  }
  writeFileSync(file, out.join('\n'));
}

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.d.ts')) strip(path);
  }
}

walk(root);
