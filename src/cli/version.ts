/** `--version`: the version of the installed package, read from its package.json. */
import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  // dist/cli/version.js -> the package root; package.json is always part of a published package.
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}
