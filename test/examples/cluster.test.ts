/**
 * examples/cluster.js does what its comments say: two workers serve one port (reusePort where
 * Node has it, else the node:cluster primary: this Node decides), a message from a client of one
 * worker reaches the clients of both workers but not its sender, a worker that dies is restarted,
 * and SIGTERM on the primary closes every client with 1001 (RFC 6455 §7.4.1) and exits 0.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect } from '../../src/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { WsforgeRecorder } from '../interop/connection-recorders.js';
import { startExample } from './example-process.js';

guardProcess();

const CLUSTER_ENTRY = fileURLToPath(new URL('../../../dist/cluster/index.js', import.meta.url));

interface Greeting {
  worker: number;
  pid: number;
}

async function client(port: number): Promise<{ client: WsforgeRecorder; greeting: Greeting }> {
  const recorder = new WsforgeRecorder(await connect(`ws://127.0.0.1:${port}/`));
  const greeting = JSON.parse((await recorder.nextMessage(5000, 'the greeting')).data.toString('utf8')) as Greeting;
  return { client: recorder, greeting };
}

/** Connect until a client of worker `id` is found (at most `attempts` connections, closed again if not kept). */
async function clientOfWorker(port: number, id: number, attempts: number): Promise<{ client: WsforgeRecorder; greeting: Greeting }> {
  const seen: number[] = [];
  for (let attempt = 0; attempt < attempts; attempt++) {
    const found = await client(port);
    if (found.greeting.worker === id) return found;
    seen.push(found.greeting.worker);
    found.client.ws.close();
    await found.client.waitForClose();
  }
  throw new Error(`no connection reached worker ${id} in ${attempts} attempts (workers seen: ${seen.join(', ')})`);
}

test('cluster.js: two workers on one port; a message published in one reaches the clients of both, not its sender; a dead worker is restarted; SIGTERM: 1001 and exit 0', async (t) => {
  assert.ok(existsSync(CLUSTER_ENTRY), `wsforge/cluster is not built (${CLUSTER_ENTRY} is missing): examples/cluster.js needs the wsforge/cluster entry point`);
  const example = await startExample(t, 'cluster.js', { WORKERS: '2' }, 20_000);
  assert.match(example.stdout(), /with 2 workers \((reuseport|primary)\)/);

  // With the primary's round-robin the second connection goes to the other worker; with
  // reusePort the kernel hashes each connection: 16 attempts miss a worker with odds of 2^-16.
  const one = await clientOfWorker(example.port, 1, 16);
  const two = await clientOfWorker(example.port, 2, 16);
  const alsoTwo = await clientOfWorker(example.port, 2, 16);
  assert.notEqual(one.greeting.pid, two.greeting.pid, 'two worker processes');

  // Each message reaches every client but its sender, whichever worker serves them.
  one.client.ws.send('from worker 1');
  assert.equal((await two.client.nextMessage()).data.toString(), 'from worker 1');
  assert.equal((await alsoTwo.client.nextMessage()).data.toString(), 'from worker 1');
  two.client.ws.send(Buffer.from([1, 2, 3]));
  for (const receiver of [one, alsoTwo]) {
    const binary = await receiver.client.nextMessage();
    assert.deepEqual([binary.isBinary, [...binary.data]], [true, [1, 2, 3]]);
  }
  alsoTwo.client.ws.send('from worker 2 again');
  assert.equal((await one.client.nextMessage()).data.toString(), 'from worker 2 again');
  // Had the binary come back to its sender, it would be two's next message (publishes keep their order).
  assert.equal((await two.client.nextMessage()).data.toString(), 'from worker 2 again');
  assert.equal(one.client.messages.size + two.client.messages.size + alsoTwo.client.messages.size, 0, 'no other message');

  // A worker killed outright loses its connections (1006) and is started again.
  const printed = example.stdout().length;
  process.kill(one.greeting.pid, 'SIGKILL');
  assert.equal((await one.client.waitForClose()).code, 1006);
  await example.waitForOutput(/worker 1 exited \(SIGKILL\); restarting it in \d+ ms/, 5000, printed);
  const back = await example.waitForOutput(/worker 1 is back \(pid (\d+)\)/, 15_000, printed);
  const again = await clientOfWorker(example.port, 1, 16);
  assert.equal(again.greeting.pid, Number(back[1]));
  assert.notEqual(again.greeting.pid, one.greeting.pid, 'a new process for worker 1');

  const exit = example.stop();
  for (const { client: open } of [two, alsoTwo, again]) assert.deepEqual(await open.waitForClose(), { code: 1001, reason: 'server shutting down' });
  assert.equal(await exit, 0);
});
