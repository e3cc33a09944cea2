// WebSockets over HTTP/2 (RFC 8441) against WebSockets over HTTP/1.1 + TLS, one server, one run: the
// server is `wsforge serve --http2` (both transports on one port) pinned to CPU 0, the load is wsforge's own
// client in a process pinned to CPU 1 (the C loadgen speaks no HTTP/2, so the same Node client drives both;
// the figures that do not depend on the client are the server's CPU time per message and its memory).
//
//   npm run build && npm run build:test && node build/bench/http2.js [--duration 5] [--reps 3] [--idle 2000]
//
// Workloads, each for both transports, interleaved within each repetition (medians reported):
// - echo of 32 B text, 10 WebSockets, 16 in flight each: messages/s and server CPU µs per message;
// - echo of 64 KiB binary, 4 WebSockets, 4 in flight each: MiB/s and server CPU µs per message;
// - idle WebSockets (--idle N): server RSS growth per WebSocket (HTTP/1.1: one TLS connection each; HTTP/2:
//   streams of one connection, as a browser's tabs share one).
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { canPin, ManagedProcess, pinnedNode, readCpuSeconds, readStatusKiB, sleep } from './proc.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CERT = `${ROOT}test/fixtures/test-only-localhost.cert.pem`;
const KEY = `${ROOT}test/fixtures/test-only-localhost.key.pem`;
const SELF = fileURLToPath(import.meta.url);

type Transport = 'h1' | 'h2';

interface EchoResult {
  messages: number;
  bytes: number;
  seconds: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}


// ------------------------------------------------------------------------------------------ the load client

async function clientMain(): Promise<void> {
  const [, , , mode, portText, transport, ...rest] = process.argv as string[];
  const { connect } = (await import(`${ROOT}dist/index.js`)) as typeof import('../src/index.js');
  const { readFileSync } = await import('node:fs');
  const tls = { ca: readFileSync(CERT) };
  const url = `wss://localhost:${portText}/`;
  const options = { tls, http2: transport === 'h2', maxPayload: 64 * 1024 * 1024 };
  if (mode === 'echo') {
    const [conns, inflight, size, duration, warmup] = rest.map(Number) as [number, number, number, number, number];
    const sockets = await Promise.all(Array.from({ length: conns }, () => connect(url, options)));
    const payload = size <= 64 ? 'x'.repeat(size) : Buffer.alloc(size, 7);
    let counting = false;
    let messages = 0;
    for (const ws of sockets) {
      ws.on('message', () => {
        if (counting) messages++;
        ws.send(payload);
      });
      for (let i = 0; i < inflight; i++) ws.send(payload);
    }
    await sleep(warmup * 1000);
    process.stdout.write('counting\n');
    counting = true;
    const started = performance.now();
    await sleep(duration * 1000);
    counting = false;
    const seconds = (performance.now() - started) / 1000;
    const result: EchoResult = { messages, bytes: messages * size, seconds };
    process.stdout.write(`result ${JSON.stringify(result)}\n`);
    for (const ws of sockets) ws.terminate();
  } else {
    const [count] = rest.map(Number) as [number];
    const sockets: Array<Awaited<ReturnType<typeof connect>>> = [];
    // Over HTTP/2 every WebSocket is a stream of one shared connection (node:http2 sets no stream limit).
    for (let i = 0; i < count; i += 100) {
      sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => connect(url, options)))));
    }
    process.stdout.write(`ready ${sockets.length}\n`);
    createInterface({ input: process.stdin }).once('line', () => {
      for (const ws of sockets) ws.terminate();
      process.exit(0);
    });
  }
  // Let the process exit once the sockets are gone.
  await sleep(200);
  if (mode === 'echo') process.exit(0);
}

// ------------------------------------------------------------------------------------------------ runner

async function startServer(): Promise<{ server: ManagedProcess; port: number }> {
  const [command, args] = pinnedNode(0, [`${ROOT}dist/cli/main.js`, 'serve', '--mode', 'echo', '--quiet', '--port', '0', '--tls-cert', CERT, '--tls-key', KEY, '--http2', '--max-payload', String(64 * 1024 * 1024)]);
  const server = new ManagedProcess(command, args, { cwd: ROOT });
  const line = await server.waitForLine((l) => l.startsWith('listening on wss://'), 10_000, 'the server to listen');
  return { server, port: Number(/:(\d+)$/.exec(line)![1]) };
}

async function echoRun(port: number, serverPid: number, transport: Transport, conns: number, inflight: number, size: number, duration: number): Promise<{ rate: number; cpuPerMessage: number }> {
  const [command, args] = pinnedNode(1, [SELF, '--client', 'echo', String(port), transport, String(conns), String(inflight), String(size), String(duration), '1']);
  const client = new ManagedProcess(command, args, { cwd: ROOT });
  await client.waitForLine((l) => l === 'counting', 30_000, 'the load client to start counting');
  const cpuBefore = readCpuSeconds(serverPid) ?? 0;
  const line = await client.waitForLine((l) => l.startsWith('result '), (duration + 30) * 1000, 'the echo result');
  const cpuAfter = readCpuSeconds(serverPid) ?? 0;
  await client.stop();
  const result = JSON.parse(line.slice(7)) as EchoResult;
  return { rate: result.messages / result.seconds, cpuPerMessage: ((cpuAfter - cpuBefore) / Math.max(1, result.messages)) * 1e6 };
}

async function idleRun(transport: Transport, count: number): Promise<number> {
  const { server, port } = await startServer();
  try {
    await sleep(500);
    const before = readStatusKiB(server.pid, 'VmRSS') ?? 0;
    const [command, args] = pinnedNode(1, [SELF, '--client', 'idle', String(port), transport, String(count)]);
    const client = new ManagedProcess(command, args, { cwd: ROOT });
    await client.waitForLine((l) => l.startsWith('ready '), 120_000, 'the idle WebSockets');
    await sleep(1000);
    const after = readStatusKiB(server.pid, 'VmRSS') ?? 0;
    client.writeLine('close');
    await client.stop(5000);
    return (after - before) / count;
  } finally {
    await server.stop();
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function runnerMain(): Promise<void> {
  const duration = arg('duration', 5);
  const reps = arg('reps', 3);
  const idle = arg('idle', 2000);
  const workloads = [
    { name: 'echo, 10 WebSockets, 32 B text, 16 in flight', conns: 10, inflight: 16, size: 32, unit: 'msg/s' },
    { name: 'echo, 4 WebSockets, 64 KiB binary, 4 in flight', conns: 4, inflight: 4, size: 64 * 1024, unit: 'MiB/s' },
  ];
  const rows: string[] = [];
  for (const w of workloads) {
    const results: Record<Transport, { rate: number[]; cpu: number[] }> = { h1: { rate: [], cpu: [] }, h2: { rate: [], cpu: [] } };
    for (let rep = 0; rep < reps; rep++) {
      // One server per repetition; the transports alternate which goes first.
      const { server, port } = await startServer();
      try {
        for (const transport of (rep % 2 === 0 ? ['h1', 'h2'] : ['h2', 'h1']) as Transport[]) {
          const r = await echoRun(port, server.pid, transport, w.conns, w.inflight, w.size, duration);
          results[transport].rate.push(w.unit === 'MiB/s' ? (r.rate * w.size) / (1024 * 1024) : r.rate);
          results[transport].cpu.push(r.cpuPerMessage);
        }
      } finally {
        await server.stop();
      }
    }
    const h1 = median(results.h1.rate);
    const h2 = median(results.h2.rate);
    const c1 = median(results.h1.cpu);
    const c2 = median(results.h2.cpu);
    rows.push(`| ${w.name} | ${h2.toFixed(0)} ${w.unit} | ${h1.toFixed(0)} | **${(h2 / h1).toFixed(2)}×** | ${c2.toFixed(1)} µs | ${c1.toFixed(1)} µs | ${(c2 / c1).toFixed(2)}× |`);
  }
  const idleH2 = await idleRun('h2', idle);
  const idleH1 = await idleRun('h1', idle);
  rows.push(`| server RSS per idle WebSocket (${idle}) | ${idleH2.toFixed(2)} KiB | ${idleH1.toFixed(2)} | **${(idleH2 / idleH1).toFixed(2)}×** | | | |`);
  process.stdout.write(
    [
      `WebSockets over HTTP/2 vs HTTP/1.1 + TLS, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ` +
        `${reps} reps of ${duration} s, medians; ${canPin ? 'server on CPU 0, client on CPU 1' : 'NOT pinned'}`,
      '',
      '| workload | HTTP/2 | HTTP/1.1 + TLS | h2 / h1 | server CPU per message, h2 | h1 | h2 / h1 |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
    ].join('\n'),
  );
}

if (process.argv[2] === '--client') await clientMain();
else await runnerMain();
