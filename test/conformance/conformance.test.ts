// RFC 6455 conformance (Autobahn-style) as node:test tests: one test per case per target, asserting the exact
// outcome (close code, echoed bytes). The cases and the driver are those of `npm run conformance`.
// Targets: CONFORMANCE_TARGETS (default server,client-lib,client-cli); cases: CONFORMANCE_CASES (id prefixes).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CATEGORIES, checkTables, selectCases } from './cases/index.js';
import { formatFailure } from './format.js';
import { Pool, runCase } from './runner.js';
import { POOL_CAPACITY, appliesTo, caseWeight, startTarget } from './suite.js';
import { selectTargets, type TargetSession } from './targets.js';

checkTables(CATEGORIES);
const targets = selectTargets(process.env.CONFORMANCE_TARGETS);
const cases = selectCases(process.env.CONFORMANCE_CASES);
// One pool for all targets, as in the report: independent cases run concurrently, large ones few at a time.
const pool = new Pool(POOL_CAPACITY);

describe('RFC 6455 conformance', { concurrency: true }, () => {
  for (const target of targets) {
    describe(`${target.name}: ${target.describe}`, { concurrency: true }, () => {
      let session: TargetSession | null = null;
      let startError: string | null = target.unavailable();

      before(async () => {
        if (startError !== null) return;
        const started = await startTarget(target);
        session = started.session;
        startError = started.status.error;
      });
      after(async () => {
        await session?.stop();
      });

      test(`${target.name} starts`, () => {
        assert.equal(startError, null, `target ${target.name} did not run: ${startError}`);
      });

      for (const { category, kase } of cases) {
        if (!appliesTo(kase, target)) continue;
        test(`${target.name} ${kase.id} ${kase.description}`, async (t) => {
          if (session === null) {
            t.skip(`target not running (see "${target.name} starts")`);
            return;
          }
          const s = session;
          const r = await pool.run(caseWeight(target, kase), () => runCase(s, kase, category.id));
          assert.ok(r.passed, `\n${formatFailure(r)}`);
        });
      }
    });
  }
});
