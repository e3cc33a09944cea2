/**
 * The fuzzer itself (fuzz/): coverage guidance, and the findings it must report, on the planted
 * bugs of toy-targets.ts. Each run is bounded in time; findings are saved under
 * fuzz/findings/<toy>/ and removed afterwards.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { type CampaignOptions, fuzzTarget, type TargetSpec } from '../../fuzz/campaign.js';
import { corpusFolders } from '../../fuzz/corpus.js';
import { guardProcess } from '../helpers/process-guard.js';

guardProcess();

const toy = (exportName: string, name: string): TargetSpec => ({ name, moduleUrl: new URL('./toy-targets.js', import.meta.url).href, exportName });
const options = (seconds: number, more: Partial<CampaignOptions> = {}): CampaignOptions => ({
  seconds,
  maxExecs: 0,
  seed: 1234,
  useGrown: false,
  retentionSeconds: 0,
  hangMs: 1000,
  ...more,
});

const used: string[] = [];
after(() => {
  for (const name of used) rmSync(corpusFolders(name).findings, { recursive: true, force: true });
});

describe('fuzz engine', () => {
  test('coverage guidance finds a crash behind four nested byte comparisons, and saves the input', async () => {
    used.push('toy-nested-magic');
    const result = await fuzzTarget(toy('nestedMagic', 'toy-nested-magic'), options(60));
    const crash = result.findings.find((f) => f.kind === 'crash');
    assert.ok(crash !== undefined, `no crash found in ${result.stats?.execs ?? 0} inputs`);
    assert.equal(crash.input.subarray(0, 4).toString('latin1'), 'FUZZ');
    assert.match(crash.message, /planted crash/);
    assert.ok(existsSync(crash.path) && readFileSync(crash.path).equals(crash.input), 'the crashing input is saved');
    // Blind chance would need about 2^32 inputs.
    assert.ok(result.stats !== null && result.stats.execs < 5_000_000, `took ${result.stats?.execs} inputs`);
  });

  test('an input that runs over the hang limit is saved and the worker stopped', async () => {
    used.push('toy-endless-loop');
    const started = Date.now();
    const result = await fuzzTarget(toy('endlessLoop', 'toy-endless-loop'), options(30, { hangMs: 500 }));
    const hang = result.findings.find((f) => f.kind === 'hang');
    assert.ok(hang !== undefined, 'no hang reported');
    assert.ok(hang.input.length >= 2, `the saved input (${hang.input.toString('hex')}) is the one that hangs`);
    assert.ok(Date.now() - started < 20_000, 'the hang was not stopped promptly');
  });

  test('a failure after the run returned (asynchronous target) is a crash with its input', async () => {
    used.push('toy-async-failure');
    const result = await fuzzTarget(toy('asyncFailure', 'toy-async-failure'), options(30));
    const crash = result.findings.find((f) => f.kind === 'crash');
    assert.ok(crash !== undefined, 'no crash found');
    assert.equal(crash.input[0], 0x42);
  });

  test('a target that keeps memory per input is reported by the retention check', async () => {
    used.push('toy-keeps-every-input');
    const result = await fuzzTarget(toy('keepsEveryInput', 'toy-keeps-every-input'), options(1, { retentionSeconds: 2 }));
    assert.ok(result.retention !== null, 'the retention check did not run');
    const leak = result.findings.find((f) => f.kind === 'leak');
    assert.ok(leak !== undefined, `no leak reported; growth ${result.retention.growth.join(', ')}`);
    assert.ok(result.retention.growth.every((g) => g > 512 * 1024));
  });

  test('a clean target reports no finding and a flat heap', async () => {
    const result = await fuzzTarget(
      { name: 'extension-negotiation', moduleUrl: new URL('../../fuzz/targets/extension-negotiation.js', import.meta.url).href, exportName: 'fuzzTarget' },
      options(3, { retentionSeconds: 2 }),
    );
    assert.deepEqual(result.findings, []);
    // A busy machine runs few inputs in 3 s; what matters is that it ran some and saw the core's code.
    assert.ok(result.stats !== null && result.stats.execs > 100 && result.stats.functions > 0, `stats: ${JSON.stringify(result.stats)}`);
    assert.ok(result.retention !== null && result.retention.growth.every((g) => g < 512 * 1024), JSON.stringify(result.retention));
  });
});
