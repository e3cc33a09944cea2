/**
 * wsforge/cluster over real processes and sockets: N workers serve one port (the kernel spreads
 * connections with reusePort on Node >= 22.12 Linux, the node:cluster primary otherwise), a
 * publish in one worker reaches the subscribers of every worker in order and byte for byte, a
 * worker that dies is restarted, and SIGTERM on the primary closes every client with 1001 and
 * exits 0. Each distribution this Node can run is tested.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { supportsReusePort, type Distribution } from '../../src/cluster/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { nextEvent, waitUntil } from '../helpers/timing.js';
import { clientsOfWorkers, connectToWorker, isAlive, startClusterProcess } from './cluster-process.js';

guardProcess();

const APP = fileURLToPath(new URL('./fixtures/cluster-app.js', import.meta.url));
const distributions: Distribution[] = supportsReusePort() ? ['reuseport', 'primary'] : ['primary'];

for (const distribution of distributions) {
  describe(`cluster, distribution ${distribution} (Node ${process.versions.node})`, () => {
    test('two workers serve one port; connections reach both', async (t) => {
      const app = startClusterProcess(t, APP, [], { DISTRIBUTION: distribution, WORKERS: '2' });
      const [, port, reported] = (await app.waitForLine(/^listening on ws:\/\/127\.0\.0\.1:(\d+) distribution (\w+)/))!;
      assert.equal(reported, distribution);
      const clients = await clientsOfWorkers(`ws://127.0.0.1:${port}/`, [1, 2]);
      assert.notEqual(clients.get(1)!.pid, clients.get(2)!.pid);
      for (const client of clients.values()) client.ws.terminate();
    });

    test('a publish in one worker reaches the subscribers in the other, in order, text and binary byte for byte', async (t) => {
      const app = startClusterProcess(t, APP, [], { DISTRIBUTION: distribution, WORKERS: '2' });
      const port = (await app.waitForLine(/^listening on ws:\/\/127\.0\.0\.1:(\d+)/))[1]!;
      const clients = await clientsOfWorkers(`ws://127.0.0.1:${port}/`, [1, 2]);
      const publisher = clients.get(1)!;
      const receiver = clients.get(2)!;
      const binary = Buffer.from([0x00, 0xff, 0x80, 0x7f, 0xc3, 0x28]); // not UTF-8: must stay binary
      const count = 200;
      for (let i = 0; i < count; i++) publisher.ws.send(i % 10 === 9 ? binary : `message ${i} ✓`);
      await receiver.waitForMessages(count);
      for (let i = 0; i < count; i++) {
        const got = receiver.received[i]!;
        if (i % 10 === 9) {
          assert.equal(got.isBinary, true, `message ${i} type`);
          assert.deepEqual(got.data, binary, `message ${i} bytes`);
        } else {
          assert.deepEqual(got, { data: `message ${i} ✓`, isBinary: false }, `message ${i}`);
        }
      }
      // The publisher is not among the receivers of its own messages.
      assert.equal(publisher.received.length, 0);
      for (const client of clients.values()) client.ws.terminate();
    });

    test('a worker that dies is restarted with the same number, and publishes reach it again', async (t) => {
      const app = startClusterProcess(t, APP, [], { DISTRIBUTION: distribution, WORKERS: '2' });
      const port = (await app.waitForLine(/^listening on ws:\/\/127\.0\.0\.1:(\d+)/))[1]!;
      const url = `ws://127.0.0.1:${port}/`;
      const before = await clientsOfWorkers(url, [1, 2]);
      const victim = before.get(2)!;
      const from = app.lineCount();
      const closed = nextEvent<[number, string]>(victim.ws, 'close', 5000);
      process.kill(victim.pid, 'SIGKILL');
      assert.equal((await closed)[0], 1006, 'a killed worker drops its connections');
      const exit = await app.waitForLine(/^exit 2 (\S+) (\S+) (\S+)$/, 5000, from);
      assert.deepEqual(exit.slice(1, 3), ['null', 'SIGKILL'], 'exit line: code and signal');
      // Restarted at once after 5 s of service, else after the first backoff step (100 ms).
      assert.ok(['0', '100'].includes(exit[3]!), `restart delay ${exit[3]}`);
      const online = await app.waitForLine(/^online 2 (\d+)$/, 10000, from);
      const newPid = Number(online[1]);
      assert.notEqual(newPid, victim.pid);
      const after = await clientsOfWorkers(url, [1, 2]);
      assert.equal(after.get(2)!.pid, newPid);
      after.get(1)!.ws.send('after the restart');
      await after.get(2)!.waitForMessages(1);
      assert.deepEqual(after.get(2)!.received[0], { data: 'after the restart', isBinary: false });
      for (const client of [...before.values(), ...after.values()]) client.ws.terminate();
    });

    test('SIGTERM on the primary closes every client with 1001 and exits 0', async (t) => {
      const app = startClusterProcess(t, APP, [], { DISTRIBUTION: distribution, WORKERS: '2' });
      const port = (await app.waitForLine(/^listening on ws:\/\/127\.0\.0\.1:(\d+)/))[1]!;
      const clients = await clientsOfWorkers(`ws://127.0.0.1:${port}/`, [1, 2]);
      const closes = [...clients.values()].map((client) => nextEvent<[number, string]>(client.ws, 'close', 8000));
      app.child.kill('SIGTERM');
      for (const [code] of await Promise.all(closes)) assert.equal(code, 1001);
      assert.equal(await app.exited(8000), 0);
      for (const client of clients.values()) await waitUntil(() => !isAlive(client.pid), 3000, `worker ${client.worker} to be gone`);
    });
  });
}

test('a worker whose serve throws fails the start: the primary says why and exits', async (t) => {
  const app = startClusterProcess(t, APP, [], { WORKERS: '2', FAIL_IN_SERVE: '1' });
  assert.equal(await app.exited(10000), 1);
  assert.match(app.stderr(), /cluster failed: worker 1 did not start: serve failed on purpose/);
});

test('a port already taken fails the start with EADDRINUSE', async (t) => {
  const first = startClusterProcess(t, APP, [], { WORKERS: '1' });
  const port = (await first.waitForLine(/^listening on ws:\/\/127\.0\.0\.1:(\d+)/))[1]!;
  // The other distribution than auto where there is one, so both bind paths are checked.
  const second = startClusterProcess(t, APP, [], { WORKERS: '1', PORT: port, DISTRIBUTION: 'primary' });
  assert.equal(await second.exited(10000), 1);
  assert.match(second.stderr(), /worker 1 did not start: .*EADDRINUSE/);
});

test(`distribution 'reuseport' ${supportsReusePort() ? 'is available' : 'is refused'} on Node ${process.versions.node}`, async (t) => {
  const app = startClusterProcess(t, APP, [], { WORKERS: '1', DISTRIBUTION: 'reuseport' });
  if (supportsReusePort()) {
    await app.waitForLine(/distribution reuseport/);
    return;
  }
  assert.equal(await app.exited(10000), 1);
  assert.match(app.stderr(), /distribution "reuseport" needs Node >= 22\.12 on Linux/);
});

test("workers: 'auto' runs one worker per CPU", async (t) => {
  const app = startClusterProcess(t, APP, [], { WORKERS: 'auto' });
  const line = await app.waitForLine(/ workers ([\d,]+)$/);
  const { availableParallelism } = await import('node:os');
  assert.equal(line[1]!.split(',').length, availableParallelism());
  const client = await connectToWorker(`ws://127.0.0.1:${(await app.waitForLine(/:(\d+) /))[1]!}/`);
  client.ws.terminate();
});
