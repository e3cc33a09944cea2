/**
 * Every committed fuzz input, replayed through its target: the seed corpus (fuzz/corpus/<target>/)
 * and the inputs of past findings (fuzz/regressions/<target>/), which failed before their fix.
 * A target throws when one of its invariants breaks.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { corpusFolders, readInputs } from '../../fuzz/corpus.js';
import type { FuzzTarget } from '../../fuzz/target.js';
import { TARGETS } from '../../fuzz/targets/index.js';
import { guardProcess } from '../helpers/process-guard.js';

guardProcess();

describe('fuzz corpus and regressions replay', () => {
  for (const spec of TARGETS) {
    test(`${spec.name}: every seed and every past finding keeps the invariants`, async () => {
      const target = ((await import(spec.moduleUrl)) as Record<string, FuzzTarget>)[spec.exportName]!;
      const folders = corpusFolders(spec.name);
      const seeds = readInputs(folders.seeds);
      assert.ok(seeds.length >= 10, `${spec.name} has ${seeds.length} seeds in ${folders.seeds} (npm run fuzz:seeds writes them)`);
      for (const { name, bytes } of [...seeds, ...readInputs(folders.regressions)]) {
        try {
          await target.run(bytes);
        } catch (error) {
          assert.fail(`${spec.name}/${name} (${bytes.toString('hex').slice(0, 400)}): ${(error as Error).message}`);
        }
      }
    });
  }
});
