/**
 * What both commands share about the command line: parsing flags, bad usage (exit 2) and the
 * one-line error report on stderr.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { integerInRange } from './integer-flag.js';

/** Bad arguments: reported with a pointer to the command's help, exit status 2. */
export class UsageError extends Error {}

/** Exit status for bad arguments (the documented rule: 0 normal close, 1 failure, 2 usage). */
export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;

/** Print `wsforge: <message>` as one line on stderr and exit. */
export function exitWithError(message: string, status: number): never {
  // Some messages (OpenSSL's) carry newlines; the CLI's rule is one line per error.
  process.stderr.write(`wsforge: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`);
  process.exit(status);
}

/** `parseArgs` in strict mode, with positionals; a parse failure becomes a UsageError of one line. */
export function parseCommandLine<const O extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs explains some errors over several lines; the CLI reports one.
    throw new UsageError((error as Error).message.split('\n')[0] ?? 'bad arguments');
  }
}

/** A numeric flag's value, or a UsageError saying the range: one line, exit status 2. */
export function integerFlag(text: string, flag: string, min: number, max: number, unit: string): number {
  const value = integerInRange(text, min, max);
  if (value === undefined) throw new UsageError(`${flag} must be an integer from ${min} to ${max} (${unit}), got "${text}"`);
  return value;
}

/** RFC 6455 §4.1: a subprotocol is an HTTP token (RFC 9110 §5.6.2); checked here so a bad one is bad usage. */
export function subprotocolFlags(values: readonly string[] | undefined): string[] {
  const protocols = [...(values ?? [])];
  for (const protocol of protocols) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(protocol)) {
      throw new UsageError(`--subprotocol must be an HTTP token (no spaces, commas, quotes or brackets), got "${protocol}"`);
    }
  }
  return protocols;
}
