/**
 * `wsforge serve --workers N` and `--redis URL`: broadcast mode reaches the clients of every
 * worker and of every server attached to the same Redis; SIGTERM still closes every client with
 * 1001 and exits 0; bad values are usage errors (exit 2).
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { connect, type WebSocket } from '../../src/index.js';
import { startClusterProcess, type ClusterProcess } from '../cluster/cluster-process.js';
import { CLI_PATH } from '../helpers/cli-process.js';
import { guardProcess } from '../helpers/process-guard.js';
import { nextEvent, waitUntil } from '../helpers/timing.js';
import { startRedis } from '../redis/redis-server.js';

guardProcess();

async function serve(t: TestContext, args: string[]): Promise<{ cli: ClusterProcess; port: number }> {
  const cli = startClusterProcess(t, CLI_PATH, ['serve', '--port', '0', '--mode', 'broadcast', ...args], {});
  const match = await cli.waitForLine(/^listening on ws:\/\/127\.0\.0\.1:(\d+)$/, 15000);
  return { cli, port: Number(match[1]) };
}

interface Client {
  ws: WebSocket;
  got: string[];
}

async function client(t: TestContext, port: number): Promise<Client> {
  const ws = await connect(`ws://127.0.0.1:${port}/`);
  t.after(() => ws.terminate());
  const got: string[] = [];
  ws.on('message', (data) => got.push(String(data)));
  return { ws, got };
}

/** Connect until the log shows connections on every one of `workers` workers (bounded). */
async function clientsOnEveryWorker(t: TestContext, cli: ClusterProcess, port: number, workers: number): Promise<Client[]> {
  const clients: Client[] = [];
  const served = (): Set<string> => new Set([...cli.stdout().matchAll(/^connection (\d+)\.\d+ /gm)].map((m) => m[1]!));
  for (let i = 0; i < 40 && served().size < workers; i++) {
    clients.push(await client(t, port));
    await waitUntil(() => (cli.stdout().match(/^connection /gm) ?? []).length >= clients.length, 5000, 'the connection log line');
  }
  assert.equal(served().size, workers, `connections on every worker: ${[...served()].join(',')}`);
  return clients;
}

describe('serve --workers', () => {
  test('--workers 2 --mode broadcast: a message reaches the clients of both workers, the sender included', async (t) => {
    const { cli, port } = await serve(t, ['--workers', '2']);
    await cli.waitForLine(/^2 workers, connections handed out by /);
    const clients = await clientsOnEveryWorker(t, cli, port, 2);
    clients[0]!.ws.send('to everyone');
    for (const c of clients) await waitUntil(() => c.got.length === 1, 5000, 'the broadcast at every client');
    for (const c of clients) assert.deepEqual(c.got, ['to everyone']);
  });

  test('--workers 2: SIGTERM closes every client with 1001 and exits 0', async (t) => {
    const { cli, port } = await serve(t, ['--workers', '2']);
    const clients = await clientsOnEveryWorker(t, cli, port, 2);
    const closes = clients.map((c) => nextEvent<[number, string]>(c.ws, 'close', 8000));
    cli.child.kill('SIGTERM');
    for (const [code] of await Promise.all(closes)) assert.equal(code, 1001);
    assert.equal(await cli.exited(8000), 0);
  });

  for (const bad of ['0', '1.5', 'many']) {
    test(`--workers ${bad} is a usage error (exit 2)`, async (t) => {
      const cli = startClusterProcess(t, CLI_PATH, ['serve', '--port', '0', '--workers', bad], {});
      assert.equal(await cli.exited(), 2);
      assert.match(cli.stderr(), /--workers must be a positive integer or auto/);
    });
  }
});

describe('serve --redis', () => {
  test('two servers on different ports share their broadcasts through one Redis', async (t) => {
    const redis = await startRedis(t);
    const a = await serve(t, ['--redis', redis.url]);
    const b = await serve(t, ['--redis', redis.url]);
    await Promise.all([a.cli.waitForLine(/^redis ready$/), b.cli.waitForLine(/^redis ready$/)]);
    const onA = await client(t, a.port);
    const onB = await client(t, b.port);
    // B's Redis subscription is made when its first client subscribes: publish until it is there.
    for (let i = 0; i < 50 && onB.got.length === 0; i++) {
      onA.ws.send(`from a ${i}`);
      await waitUntil(() => onB.got.length > 0, 100, 'a broadcast across').catch(() => {});
    }
    assert.match(onB.got[0] ?? '', /^from a \d+$/);
    onB.ws.send('from b');
    await waitUntil(() => onA.got.includes('from b') && onB.got.includes('from b'), 5000, 'b to reach both servers');
  });

  test('--workers 2 --redis: a server of two workers and a single server share broadcasts', async (t) => {
    const redis = await startRedis(t);
    const a = await serve(t, ['--workers', '2', '--redis', redis.url]);
    const b = await serve(t, ['--redis', redis.url]);
    const onA = await clientsOnEveryWorker(t, a.cli, a.port, 2);
    const onB = await client(t, b.port);
    for (let i = 0; i < 50 && onB.got.length === 0; i++) {
      onA[0]!.ws.send(`ping ${i}`);
      await waitUntil(() => onB.got.length > 0, 100, 'a broadcast across').catch(() => {});
    }
    assert.ok(onB.got.length > 0, 'a broadcast from a worker reached the other server');
    onB.ws.send('from b');
    for (const c of [...onA, onB]) await waitUntil(() => c.got.includes('from b'), 5000, 'from b at every client of both servers');
  });

  test('--redis with something that is not a redis:// URL is a usage error (exit 2)', async (t) => {
    const cli = startClusterProcess(t, CLI_PATH, ['serve', '--port', '0', '--redis', 'localhost:6379'], {});
    assert.equal(await cli.exited(), 2);
    assert.match(cli.stderr(), /--redis must be a redis:\/\/ or rediss:\/\/ URL/);
  });
});
