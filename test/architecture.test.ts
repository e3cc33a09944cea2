/**
 * The layers (README "Development"): imports point down only. protocol/ is sans-I/O and imports
 * no other layer and no socket or timer module; pubsub/ imports nothing of wsforge; node/ builds on
 * both; the entry points above them (ws/, cluster/, redis/, cli/) use the public entry points only.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

const RANK: Record<string, number> = { protocol: 0, pubsub: 1, node: 2, ws: 3, cluster: 3, redis: 3, cli: 4 };
/** What the layers above node/ may import from wsforge: entry points and the adapter interface. */
const PUBLIC = new Set(['index.ts', 'protocol/index.ts', 'whatwg.ts', 'ws/index.ts', 'cluster/index.ts', 'redis/index.ts', 'pubsub/adapter.ts']);
/** Node modules that do I/O or keep time: none of them in protocol/ (node:crypto and node:zlib are computation). */
const IO_MODULES = /^node:(net|tls|http|https|http2|dgram|child_process|cluster|worker_threads|fs|timers)/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith('.ts') ? [path] : [];
  });
}

const imports = files(src).map((path) => {
  const file = relative(src, path);
  const text = readFileSync(path, 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\s(?:[^;]*?from\s+)?'([^']+)'/gm)].map((match) => match[1]!);
  return { file, layer: file.includes('/') ? file.split('/')[0]! : 'entry', text, specifiers };
});

test('layers: imports point down only (protocol < pubsub < node < ws, cluster, redis < cli)', () => {
  const wrong: string[] = [];
  for (const { file, layer, specifiers } of imports) {
    for (const specifier of specifiers) {
      if (!specifier.startsWith('.')) continue;
      const target = normalize(join(dirname(file), specifier)).replace(/\.js$/, '.ts');
      const targetLayer = target.includes('/') ? target.split('/')[0]! : 'entry';
      if (layer === 'entry') continue;
      const below = targetLayer !== 'entry' && (RANK[targetLayer] ?? 9) <= (RANK[layer] ?? 9);
      const allowedEntry = targetLayer === 'entry' && (RANK[layer] ?? 0) >= 3;
      if (!below && !allowedEntry) wrong.push(`${file} imports ${specifier}`);
      if ((RANK[layer] ?? 0) >= 3 && targetLayer !== layer && !PUBLIC.has(target)) wrong.push(`${file} reaches past the public API: ${specifier}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('layers: protocol/ does no I/O and keeps no timers (sans-I/O)', () => {
  const wrong: string[] = [];
  for (const { file, layer, specifiers, text } of imports) {
    if (layer !== 'protocol') continue;
    for (const specifier of specifiers) if (IO_MODULES.test(specifier) && !/import type/.test(text.split(specifier)[0]!.split('\n').pop()!)) wrong.push(`${file}: ${specifier}`);
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    if (/\b(setTimeout|setInterval|setImmediate)\b/.test(code)) wrong.push(`${file}: a timer`);
  }
  assert.deepEqual(wrong, []);
});
