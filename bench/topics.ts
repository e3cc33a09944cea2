// Topics: what a subscription costs in memory, and whether publishing slows down with many topics.
//
//   npm run build && npm run build:test && node build/bench/topics.js [--conns 10000] [--per-conn 10] [--reps 3]
//
// - Memory: a wsforge server (dist/, pinned to CPU 0) whose `open` handler subscribes every connection to
//   `--per-conn` topics, either the same ones for everyone ("shared": 10 topics of 10,000 subscribers) or its own
//   ("unique": 100,000 topics of one subscriber, the costliest case: a Set and a Map entry each); and the same
//   server subscribing nothing. Raw clients in a process pinned to CPU 1 open `--conns` connections. Server
//   VmRSS growth per connection, from /proc; per subscription = (growth with topics - growth without) / per-conn.
// - Publishing among many topics: one process (pinned to CPU 0) with a server and two raw clients; one
//   connection subscribes to the target topic, the other to 9 or to 99,999 other topics; the server publishes
//   200,000 32-byte messages to the target, 1,000 per event-loop turn; its CPU time per publish (the client
//   only discards what it reads). The topic index is a Map, so the two should cost the same.
// Variants are interleaved within each repetition; medians are printed.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ManagedProcess, pinnedNode, readStatusKiB, sleep } from './proc.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const DIST = new URL('../../dist/index.js', import.meta.url);

type Subscriptions = 'none' | 'shared' | 'unique';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}


function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

// The part of wsforge's public API used here (dist/ is imported at run time, so this file compiles without it).
interface ServerConnection {
  subscribe(topic: string): boolean;
}
interface Server {
  listen(options: { port: number; host: string }): Promise<{ port: number }>;
  publish(topic: string, data: string): number;
}
type ServerClass = new (options: { handlers: { open(ws: ServerConnection): void } }) => Server;

async function loadServerClass(): Promise<ServerClass> {
  if (!existsSync(DIST)) throw new Error('dist/index.js not found: run `npm run build` first');
  return ((await import(DIST.href)) as { WebSocketServer: ServerClass }).WebSocketServer;
}

/** A raw WebSocket client: the opening handshake, then it reads and discards. */
function openRaw(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, '127.0.0.1');
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`handshake refused: ${head.split('\r\n')[0]}`));
      else {
        socket.on('data', () => {});
        resolve(socket);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

/** Child: the server of the memory measurement. */
async function memoryServer(subscriptions: Subscriptions, perConn: number): Promise<void> {
  const WebSocketServer = await loadServerClass();
  let opened = 0;
  const wss = new WebSocketServer({
    handlers: {
      open(ws) {
        const n = opened++;
        if (subscriptions === 'none') return;
        for (let i = 0; i < perConn; i++) ws.subscribe(subscriptions === 'shared' ? `shared:${i}` : `conn:${n}:${i}`);
      },
    },
  });
  const { port } = await wss.listen({ port: 0, host: '127.0.0.1' });
  console.log(`listening ${port}`);
}

/** Child: `conns` raw connections, held until stdin ends. */
async function memoryClients(port: number, conns: number): Promise<void> {
  const sockets: Socket[] = [];
  for (let i = 0; i < conns; i += 100) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, conns - i) }, () => openRaw(port)))));
  }
  console.log(`ready ${sockets.length}`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

/** Child: CPU µs per publish to a topic of one subscriber while `otherTopics` other topics exist. */
async function publishCost(otherTopics: number): Promise<void> {
  const WebSocketServer = await loadServerClass();
  let opened = 0;
  const wss = new WebSocketServer({
    handlers: {
      open(ws) {
        if (opened++ === 0) ws.subscribe('target');
        else for (let i = 0; i < otherTopics; i++) ws.subscribe(`other:${i}`);
      },
    },
  });
  const { port } = await wss.listen({ port: 0, host: '127.0.0.1' });
  await openRaw(port);
  await openRaw(port);
  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  const publishRound = (): void => {
    for (let i = 0; i < 1000; i++) wss.publish('target', 'a 32-byte message for the topic.');
  };
  for (let r = 0; r < 20; r++) {
    publishRound();
    await turn();
  }
  const before = process.cpuUsage();
  const rounds = 200;
  let delivered = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < 1000; i++) delivered += wss.publish('target', 'a 32-byte message for the topic.');
    await turn();
  }
  const used = process.cpuUsage(before);
  console.log(`result ${JSON.stringify({ usPerPublish: (used.user + used.system) / (rounds * 1000), delivered })}`);
  process.exit(0);
}

async function memoryRun(subscriptions: Subscriptions, conns: number, perConn: number): Promise<number> {
  const [command, args] = pinnedNode(0, [SELF, '--child', 'memory-server', subscriptions, String(perConn)]);
  const server = new ManagedProcess(command, args, { cwd: ROOT });
  const line = await server.waitForLine((l) => l.startsWith('listening '), 10_000, 'the server to listen');
  await sleep(500);
  const before = readStatusKiB(server.pid, 'VmRSS') ?? 0;
  const [clientCommand, clientArgs] = pinnedNode(1, [SELF, '--child', 'memory-clients', line.slice(10), String(conns)]);
  const clients = new ManagedProcess('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"', clientCommand, ...clientArgs], { cwd: ROOT });
  await clients.waitForLine((l) => l.startsWith('ready '), 120_000, 'the connections to open');
  await sleep(1500);
  const after = readStatusKiB(server.pid, 'VmRSS') ?? 0;
  await clients.stop();
  await server.stop();
  return (after - before) / conns;
}

async function publishRun(otherTopics: number): Promise<number> {
  const [command, args] = pinnedNode(0, [SELF, '--child', 'publish-cost', String(otherTopics)]);
  const child = new ManagedProcess(command, args, { cwd: ROOT });
  const line = await child.waitForLine((l) => l.startsWith('result '), 120_000, 'the publish result');
  await child.stop();
  const result = JSON.parse(line.slice(7)) as { usPerPublish: number; delivered: number };
  if (result.delivered !== 200_000) throw new Error(`publish-cost: ${result.delivered} deliveries, expected 200000`);
  return result.usPerPublish;
}

async function main(): Promise<void> {
  const child = process.argv.indexOf('--child');
  if (child !== -1) {
    const [mode, a, b] = process.argv.slice(child + 1);
    if (mode === 'memory-server') return memoryServer(a as Subscriptions, Number(b));
    if (mode === 'memory-clients') return memoryClients(Number(a), Number(b));
    if (mode === 'publish-cost') return publishCost(Number(a));
    throw new Error(`unknown child ${String(mode)}`);
  }
  const conns = arg('conns', 10_000);
  const perConn = arg('per-conn', 10);
  const reps = arg('reps', 3);
  const memory: Record<Subscriptions, number[]> = { none: [], shared: [], unique: [] };
  const publish: Record<string, number[]> = { '9': [], '99999': [] };
  for (let rep = 1; rep <= reps; rep++) {
    for (const subscriptions of ['none', 'shared', 'unique'] as const) {
      const perConnection = await memoryRun(subscriptions, conns, perConn);
      memory[subscriptions].push(perConnection);
      console.error(`rep ${rep} memory ${subscriptions}: ${perConnection.toFixed(2)} KiB per connection`);
    }
    for (const others of [9, 99_999]) {
      const cost = await publishRun(others);
      publish[String(others)]!.push(cost);
      console.error(`rep ${rep} publish with ${others + 1} topics: ${cost.toFixed(3)} µs per publish`);
    }
  }
  const none = median(memory.none);
  const perSubscription = (variant: Subscriptions): string => (((median(memory[variant]) - none) * 1024) / perConn).toFixed(0);
  console.log(`# topics: ${conns} connections x ${perConn} topics each, ${reps} reps, medians (node ${process.version})`);
  console.log('');
  console.log('| measure | value |');
  console.log('|---|---:|');
  console.log(`| server RSS per connection, no subscription | ${none.toFixed(2)} KiB |`);
  console.log(`| per connection, ${perConn} shared topics (${perConn} topics in all) | ${median(memory.shared).toFixed(2)} KiB |`);
  console.log(`| per connection, ${perConn} topics of its own (${conns * perConn} topics in all) | ${median(memory.unique).toFixed(2)} KiB |`);
  console.log(`| per subscription, shared topics | ${perSubscription('shared')} B |`);
  console.log(`| per subscription, a topic of its own | ${perSubscription('unique')} B |`);
  console.log(`| CPU per publish to a topic of 1 subscriber, 10 topics | ${median(publish['9']!).toFixed(3)} µs |`);
  console.log(`| the same, 100,000 topics | ${median(publish['99999']!).toFixed(3)} µs |`);
}

await main();
