/**
 * The public surface, locked: every name each entry point exports (values at run time, types
 * in its published .d.ts), and the members of the public classes as users see them in the
 * published types. A name that appears or disappears fails here until test/api-surface.json is
 * updated on purpose (`node build/test/api-surface.test.js --update` rewrites it); nothing
 * internal (`@internal`, private members, internal symbols) may appear.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url);
const snapshotUrl = new URL('test/api-surface.json', root);

/** Entry points: package export → compiled module and published declaration file. */
const ENTRIES: Record<string, { module: string; types: string }> = {};
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  exports: Record<string, string | { types?: string; import?: string; default?: string }>;
};
for (const [subpath, target] of Object.entries(manifest.exports)) {
  if (typeof target === 'string' || target.types === undefined) continue;
  ENTRIES[subpath] = { module: (target.import ?? target.default)!, types: target.types };
}

/** Classes whose members are part of the surface, by the declaration file that holds them. */
const CLASSES: Record<string, string> = {
  WebSocket: 'dist/node/connection/websocket.d.ts',
  WebSocketServer: 'dist/node/server/server.d.ts',
  ProtocolSession: 'dist/protocol/session/session.d.ts',
  FrameReceiver: 'dist/protocol/receive/frame-receiver.d.ts',
  FrameParser: 'dist/protocol/receive/frame-parser.d.ts',
  PreparedMessage: 'dist/protocol/frame/prepared.d.ts',
  ClusterPrimary: 'dist/cluster/primary.d.ts',
  RedisPubSub: 'dist/redis/redis-pubsub.d.ts',
};

/** Names exported by a declaration file's `export { ... }` and `export declare` statements, transitively through `export *`. */
function exportedTypeNames(file: URL, seen = new Set<string>()): string[] {
  if (seen.has(file.href)) return [];
  seen.add(file.href);
  const text = readFileSync(file, 'utf8');
  const names: string[] = [];
  for (const match of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of match[1]!.split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()!.trim();
      if (name !== '') names.push(name);
    }
  }
  for (const match of text.matchAll(/export\s+declare\s+(?:abstract\s+)?(?:class|function|const|let|enum|namespace)\s+([\w$]+)/g)) names.push(match[1]!);
  for (const match of text.matchAll(/export\s+(?:interface|type)\s+([\w$]+)/g)) names.push(match[1]!);
  for (const match of text.matchAll(/export\s+\*\s+from\s+'([^']+)'/g)) {
    names.push(...exportedTypeNames(new URL(match[1]!.replace(/\.js$/, '.d.ts'), file), seen));
  }
  return [...new Set(names)].sort();
}

/** Member names of `class Name` in a declaration file, in order (statics marked). */
function classMembers(file: string, name: string): string[] {
  const text = readFileSync(new URL(file, root), 'utf8');
  const start = text.search(new RegExp(`export declare (?:abstract )?class ${name}\\b`));
  assert.ok(start !== -1, `class ${name} in ${file}`);
  const body = text.slice(text.indexOf('{', start) + 1);
  const members: string[] = [];
  let depth = 0;
  for (const line of body.split('\n')) {
    const trimmed = line.trim();
    if (depth === 0 && trimmed === '}') break;
    if (depth === 0 && !trimmed.startsWith('*') && !trimmed.startsWith('/*') && trimmed !== '') {
      const match = /^(?:(static|protected|private)\s+)?(?:abstract\s+)?(?:readonly\s+)?(?:(get|set)\s+)?(\[[^\]]+\]|[#\w$]+)/.exec(trimmed);
      if (match !== null) members.push(`${match[1] === undefined ? '' : `${match[1]} `}${match[2] === undefined ? '' : `${match[2]} `}${match[3]}`);
    }
    for (const c of trimmed) {
      if (c === '{' || c === '(') depth++;
      else if (c === '}' || c === ')') depth--;
    }
  }
  return members;
}

async function currentSurface(): Promise<Record<string, unknown>> {
  const surface: Record<string, unknown> = {};
  for (const [subpath, entry] of Object.entries(ENTRIES)) {
    const module = (await import(new URL(entry.module, root).href)) as Record<string, unknown>;
    surface[`${subpath} values`] = Object.keys(module).sort();
    surface[`${subpath} types`] = exportedTypeNames(new URL(entry.types, root));
  }
  for (const [name, file] of Object.entries(CLASSES)) surface[`class ${name}`] = classMembers(file, name);
  return surface;
}

test('API surface: every exported name and public class member is the one recorded in test/api-surface.json', async () => {
  const surface = await currentSurface();
  if (process.argv.includes('--update')) {
    writeFileSync(snapshotUrl, `${JSON.stringify(surface, null, 2)}\n`);
    return;
  }
  const recorded = JSON.parse(readFileSync(snapshotUrl, 'utf8')) as Record<string, unknown>;
  assert.deepEqual(surface, recorded, 'the public surface changed: update test/api-surface.json on purpose if intended');
});

test('API surface: no internal member is published (private, protected, @internal names, internal symbols)', () => {
  for (const [name, file] of Object.entries(CLASSES)) {
    const text = readFileSync(new URL(file, root), 'utf8');
    assert.doesNotMatch(text, /^\s*private /m, `${file}: private members`);
    assert.doesNotMatch(text, /@internal/, `${file}: @internal left in`);
    for (const member of classMembers(file, name)) {
      assert.doesNotMatch(member, /^protected|^private|connectionStart|^handleSocket|^on[A-Z]|^flush$|^session$/, `${name}.${member} is internal`);
    }
  }
});
