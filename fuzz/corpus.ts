/**
 * The inputs a target's fuzzing starts from and keeps: seeds committed under fuzz/corpus/<target>/,
 * and inputs found to reach new code, saved under fuzz/grown/<target>/ (not committed), each file
 * named by the SHA-1 of its bytes.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const FUZZ_ROOT = new URL('../../fuzz/', import.meta.url).pathname;

/** Where a target's seeds, grown inputs and findings live. */
export function corpusFolders(target: string): { seeds: string; grown: string; findings: string; regressions: string } {
  return {
    seeds: join(FUZZ_ROOT, 'corpus', target),
    grown: join(FUZZ_ROOT, 'grown', target),
    findings: join(FUZZ_ROOT, 'findings', target),
    regressions: join(FUZZ_ROOT, 'regressions', target),
  };
}

/** Every file of a folder (none if it does not exist), by name. */
export function readInputs(folder: string): Array<{ name: string; bytes: Buffer }> {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((name) => !name.startsWith('.') && !name.endsWith('.md'))
    .sort()
    .map((name) => ({ name, bytes: readFileSync(join(folder, name)) }));
}

export function inputName(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}

/** Save an input under its hash (prefixed); returns the path. */
export function saveInput(folder: string, bytes: Uint8Array, prefix = ''): string {
  mkdirSync(folder, { recursive: true });
  const path = join(folder, prefix + inputName(bytes));
  writeFileSync(path, bytes);
  return path;
}
