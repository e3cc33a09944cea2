/**
 * Real redis-server instances for the tests: each on a free loopback port, no persistence
 * (`--save ''`, no AOF), in a temporary directory, stopped by PID after the test. A Redis
 * Cluster of three masters is made the same way (slots assigned and nodes introduced with
 * CLUSTER commands). A missing redis-server fails the test with the install command.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createClient } from 'redis';
import { delay } from '../helpers/timing.js';

const INSTALL = 'redis-server is not installed: apt-get install redis-server (Debian package redis-server, Redis >= 7)';

export function requireRedisServer(): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) throw new Error(INSTALL);
  const major = Number(/v=(\d+)/.exec(probe.stdout)?.[1] ?? 0);
  if (major < 7) throw new Error(`redis-server ${probe.stdout.trim()} is too old for sharded pub/sub: Redis >= 7 needed`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** PING until +PONG (bounded). */
async function waitForPong(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const pong = await new Promise<boolean>((resolve) => {
      const socket = netConnect(port, '127.0.0.1');
      socket.setTimeout(500, () => socket.destroy());
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
      socket.once('close', () => resolve(false));
    });
    if (pong) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${ms} ms`);
    await delay(20);
  }
}

export interface RedisInstance {
  port: number;
  /** The cluster bus port (cluster mode). */
  busPort: number;
  url: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** SIGKILL: Redis is gone at once, as in a crash. */
  kill(): Promise<void>;
  /** Start again on the same port (and, in a cluster, with the same node identity). */
  restart(): Promise<void>;
}

interface InstanceOptions {
  cluster: boolean;
}

export async function startRedis(t: TestContext, options: InstanceOptions = { cluster: false }): Promise<RedisInstance> {
  requireRedisServer();
  const dir = mkdtempSync(join(tmpdir(), 'wsforge-redis-'));
  const port = await freePort();
  const busPort = options.cluster ? await freePort() : 0;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'];
  if (options.cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(busPort), '--cluster-node-timeout', '1000');
  let child: ChildProcess | null = null;
  let stderr = '';
  const launch = async (): Promise<void> => {
    const started = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    started.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child = started;
    const exited = new Promise<never>((_, reject) => started.once('exit', (code) => reject(new Error(`redis-server exited (${String(code)}): ${stderr}`))));
    exited.catch(() => {});
    await Promise.race([waitForPong(port, 5000), exited]);
  };
  const kill = async (): Promise<void> => {
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await gone;
  };
  t.after(async () => {
    await kill();
    rmSync(dir, { recursive: true, force: true });
  });
  await launch();
  return {
    port,
    busPort,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== null;
    },
    kill,
    restart: launch,
  };
}

export interface RedisCluster {
  nodes: RedisInstance[];
  urls: string[];
  /** The node that owns `channel`'s slot (sharded pub/sub goes through it). */
  ownerOf(channel: string): Promise<RedisInstance>;
  /** Wait until every node reports cluster_state:ok. */
  waitHealthy(ms?: number): Promise<void>;
}

/** Three masters on loopback, slots 0-5460, 5461-10922, 10923-16383, no replicas. */
export async function startRedisCluster(t: TestContext): Promise<RedisCluster> {
  const nodes = await Promise.all([0, 1, 2].map(() => startRedis(t, { cluster: true })));
  const ranges: Array<[number, number]> = [
    [0, 5460],
    [5461, 10922],
    [10923, 16383],
  ];
  const run = async <T>(node: RedisInstance, command: string[]): Promise<T> => {
    const client = createClient({ url: node.url });
    client.on('error', () => {});
    await client.connect();
    try {
      return (await client.sendCommand(command)) as T;
    } finally {
      client.destroy();
    }
  };
  for (const [i, node] of nodes.entries()) await run(node, ['CLUSTER', 'ADDSLOTSRANGE', String(ranges[i]![0]), String(ranges[i]![1])]);
  for (const node of nodes.slice(1)) await run(node, ['CLUSTER', 'MEET', '127.0.0.1', String(nodes[0]!.port), String(nodes[0]!.busPort)]);
  const waitHealthy = async (ms = 15000): Promise<void> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const states = await Promise.all(nodes.map((node) => run<string>(node, ['CLUSTER', 'INFO']).catch(() => '')));
      if (states.every((info) => info.includes('cluster_state:ok') && info.includes('cluster_known_nodes:3'))) return;
      if (Date.now() > deadline) throw new Error(`the Redis Cluster did not become healthy within ${ms} ms`);
      await delay(100);
    }
  };
  await waitHealthy();
  return {
    nodes,
    urls: nodes.map((node) => node.url),
    async ownerOf(channel) {
      const slot = await run<number>(nodes[0]!, ['CLUSTER', 'KEYSLOT', channel]);
      const index = ranges.findIndex(([from, to]) => slot >= from && slot <= to);
      return nodes[index]!;
    },
    waitHealthy,
  };
}

/** The channels subscribed on a Redis node: classic (`PUBSUB CHANNELS`) or sharded (`PUBSUB SHARDCHANNELS`). */
export async function subscribedChannels(node: RedisInstance, sharded: boolean): Promise<string[]> {
  const client = createClient({ url: node.url });
  client.on('error', () => {});
  await client.connect();
  try {
    const reply = (await client.sendCommand(['PUBSUB', sharded ? 'SHARDCHANNELS' : 'CHANNELS'])) as string[];
    return [...reply].sort();
  } finally {
    client.destroy();
  }
}
