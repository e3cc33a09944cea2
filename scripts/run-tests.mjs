#!/usr/bin/env node
// Runs every compiled *.test.js file under build/test with node:test.
// Node 20's test runner has no glob support, and given a directory it treats every
// file under a folder named "test" as a test file, helpers included; so we list the
// files ourselves. Extra arguments are passed through (e.g. a subset of paths).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const roots = args.length > 0 ? args : [join(root, 'build', 'test')];

function collect(path, out) {
  const info = statSync(path);
  if (info.isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (path.endsWith('.test.js')) {
    out.push(path);
  }
  return out;
}

const files = roots.flatMap((r) => collect(r, []));
if (files.length === 0) {
  console.error(`no test files found under ${roots.join(', ')} (did the build run?)`);
  process.exit(1);
}
console.log(`running ${files.length} test files on node ${process.version}`);
const result = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', ...files.map((f) => relative(process.cwd(), f))],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
