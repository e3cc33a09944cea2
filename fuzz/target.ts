/**
 * What a fuzz target is: a function of one input that runs part of the sans-I/O core and checks
 * its invariants (throwing an InvariantViolation when one breaks), with what the mutator needs
 * to know about its inputs. Any exception a target lets through is a finding.
 */

export interface FuzzTarget {
  /** The name used by `--target` and for the corpus folders. */
  readonly name: string;
  /** One line: what the target runs and checks. */
  readonly description: string;
  /** The largest input the mutator makes. */
  readonly maxLength: number;
  /** Byte strings the mutator inserts whole (header names, frame headers, parameters). */
  readonly dictionary: readonly Uint8Array[];
  /**
   * Run one input and check the invariants. Asynchronous targets (zlib) return a promise; an
   * input whose run takes longer than the hang limit is a finding too.
   */
  run(input: Buffer): void | Promise<void>;
  /** Part of script URLs whose coverage guides the fuzzer; default the protocol core. */
  readonly coverageScope?: string;
}

/** The core's compiled files: what the fuzzer tries to cover. */
export const PROTOCOL_COVERAGE_SCOPE = '/src/protocol/';

/** An invariant did not hold: a bug in the code under test (or in its model). */
export class InvariantViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantViolation';
  }
}

/** Throw an InvariantViolation with `message` unless `condition` holds. */
export function check(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantViolation(typeof message === 'string' ? message : message());
}

/** Dictionary entries from text (latin1: one byte per character). */
export function textTokens(...tokens: string[]): Uint8Array[] {
  return tokens.map((token) => Buffer.from(token, 'latin1'));
}
