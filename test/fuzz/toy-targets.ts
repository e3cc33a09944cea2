/**
 * Small fuzz targets with bugs planted on purpose, to show that the fuzzer finds what it is for:
 * a crash behind four nested byte comparisons (found only with coverage guidance: blind chance is
 * 1 in 2^32), an input that never returns, and a target that keeps something per input.
 */
import type { FuzzTarget } from '../../fuzz/target.js';

/** Their coverage is what guides the fuzzer here (the default is src/protocol). */
const scope = '/test/fuzz/toy-targets';

export const nestedMagic: FuzzTarget = {
  name: 'toy-nested-magic',
  description: 'crashes on inputs that start with "FUZZ"',
  maxLength: 16,
  dictionary: [],
  coverageScope: scope,
  run(input) {
    if (input[0] === 0x46) {
      if (input[1] === 0x55) {
        if (input[2] === 0x5a) {
          if (input[3] === 0x5a) throw new Error('planted crash: the input starts with FUZZ');
        }
      }
    }
  },
};

export const endlessLoop: FuzzTarget = {
  name: 'toy-endless-loop',
  description: 'never returns once the input has two bytes',
  maxLength: 8,
  dictionary: [],
  coverageScope: scope,
  run(input) {
    let spins = 0;
    while (input.length >= 2) {
      spins++;
      if (spins < 0) break; // never: keeps the loop from being a constant condition
    }
  },
};

const kept: Buffer[] = [];

export const keepsEveryInput: FuzzTarget = {
  name: 'toy-keeps-every-input',
  description: 'keeps 4 KiB per input forever',
  maxLength: 8,
  dictionary: [],
  coverageScope: scope,
  run() {
    kept.push(Buffer.alloc(4096, 1));
  },
};

export const asyncFailure: FuzzTarget = {
  name: 'toy-async-failure',
  description: 'rejects later (a callback of an asynchronous target) for inputs starting with 0x42',
  maxLength: 4,
  dictionary: [Uint8Array.from([0x42])],
  coverageScope: scope,
  async run(input) {
    await new Promise((resolve) => setImmediate(resolve));
    if (input[0] === 0x42) throw new Error('planted asynchronous failure');
  },
};
