/**
 * The CLI's numeric flags take decimal integers in their range: a wrong value for each exits 2
 * with one line on stderr naming the flag, its range and what it got, before anything listens or
 * connects. Number() alone took "" as 0 (a random port), "0x50" as 80, and a --timeout past
 * 2^31 - 1 ms, which Node's timers fire after 1 ms.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli-process.js';
import { guardProcess } from '../helpers/process-guard.js';

guardProcess();

/** No server listens here. */
const NOWHERE = 'ws://127.0.0.1:1/';

/** Bound for a process to start and exit: generous, as a busy machine can take seconds to start node. */
const PROCESS_MS = 15_000;

const refused: ReadonlyArray<{ args: string[]; flag: string; range: string; got: string }> = [
  { args: ['serve', '--port', 'abc'], flag: '--port', range: 'from 0 to 65535', got: 'abc' },
  { args: ['serve', '--port', '65536'], flag: '--port', range: 'from 0 to 65535', got: '65536' },
  { args: ['serve', '--port=-1'], flag: '--port', range: 'from 0 to 65535', got: '-1' },
  { args: ['serve', '--port', ''], flag: '--port', range: 'from 0 to 65535', got: '' },
  { args: ['serve', '--port', '0x50'], flag: '--port', range: 'from 0 to 65535', got: '0x50' },
  { args: ['serve', '--port', '80.5'], flag: '--port', range: 'from 0 to 65535', got: '80.5' },
  { args: ['serve', '--max-payload', '0'], flag: '--max-payload', range: 'from 1 to 9007199254740991', got: '0' },
  { args: ['serve', '--max-payload', '1e6'], flag: '--max-payload', range: 'from 1 to 9007199254740991', got: '1e6' },
  { args: ['serve', '--max-payload', '9007199254740992'], flag: '--max-payload', range: 'from 1 to 9007199254740991', got: '9007199254740992' },
  { args: ['connect', NOWHERE, '--timeout', '0'], flag: '--timeout', range: 'from 1 to 2147483647', got: '0' },
  { args: ['connect', NOWHERE, '--timeout', '2147483648'], flag: '--timeout', range: 'from 1 to 2147483647', got: '2147483648' },
  { args: ['connect', NOWHERE, '--timeout', '10s'], flag: '--timeout', range: 'from 1 to 2147483647', got: '10s' },
  { args: ['connect', NOWHERE, '--reconnect', '--timeout', '5.5'], flag: '--timeout', range: 'from 1 to 2147483647', got: '5.5' },
];

describe('CLI numeric flags', () => {
  for (const { args, flag, range, got } of refused) {
    test(`CLI: ${args.map((arg) => JSON.stringify(arg)).join(' ')} → exit 2, one line naming ${flag}, its range and the value`, async (t) => {
      const cli = runCli(t, args);
      assert.equal(await cli.exited(PROCESS_MS), 2);
      const stderr = cli.stderr();
      assert.equal(stderr.split('\n').filter((line) => line !== '').length, 1, `one line on stderr: ${JSON.stringify(stderr)}`);
      assert.ok(stderr.startsWith(`wsforge: ${flag} must be an integer ${range}`), stderr);
      assert.ok(stderr.includes(`got "${got}"`), stderr);
      assert.equal(cli.stdout(), '', 'nothing listened or connected');
    });
  }

  test('CLI: the largest values are accepted (--max-payload 2^53 - 1 serves; --timeout 2^31 - 1 goes on to connect)', async (t) => {
    const server = runCli(t, ['serve', '--port', '0', '--quiet', '--max-payload', '9007199254740991']);
    await server.waitForLine(/^listening on ws:\/\/127\.0\.0\.1:\d+$/, PROCESS_MS);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited(PROCESS_MS), 0);
    // Nothing listens on port 1: past the flags, the connection itself fails (exit 1, not 2).
    const client = runCli(t, ['connect', NOWHERE, '--timeout', '2147483647']);
    assert.equal(await client.exited(PROCESS_MS), 1);
    assert.ok(!client.stderr().includes('--timeout'), client.stderr());
  });
});
