// The socket.io broadcast load generator: N socket.io-client receivers and one publisher in this process
// (WebSocket transport only), paced like the C loadgen's broadcast mode: the publisher sends message i only
// once every receiver has received message i - K. Prints "MEASURE start" / "MEASURE end" around the
// measured window (the runner samples the server's CPU there) and one JSON line with the result.
//
// usage: node build/bench/socketio-loadgen.js --host H --port P --conns N --size S --inflight K --duration D --warmup W
import { parseArgs } from 'node:util';
import { io, type Socket } from 'socket.io-client';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    conns: { type: 'string', default: '1000' },
    size: { type: 'string', default: '32' },
    inflight: { type: 'string', default: '1' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    'setup-timeout': { type: 'string', default: '60' },
  },
});

const receivers = Number(values.conns);
const size = Number(values.size);
const inflight = Number(values.inflight);
const durationMs = Number(values.duration) * 1000;
const warmupMs = Number(values.warmup) * 1000;
const url = `http://${values.host}:${values.port}`;

function fail(error: string): never {
  process.stderr.write(`socketio-loadgen: ${error}\n`);
  process.stdout.write(`${JSON.stringify({ ok: false, error })}\n`);
  process.exit(1);
}

const setupTimer = setTimeout(() => fail(`setup did not finish within ${values['setup-timeout']} s`), Number(values['setup-timeout']) * 1000);

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error: Error) => reject(error));
  });
}

// Receiver bookkeeping: how many receivers have each outstanding sequence number; a message is complete
// when all have it.
const pending = new Map<number, number>();
const publishedAt = new Map<number, bigint>();
let completed = -1;
let sent = 0;
let measuring = false;
let deliveries = 0;
const latencies: number[] = [];
const LATENCY_SAMPLES = 200_000;

function onDelivery(text: string): void {
  const seq = Number(text.slice(0, text.indexOf(':')));
  if (measuring) {
    deliveries++;
    const at = publishedAt.get(seq);
    if (at !== undefined && latencies.length < LATENCY_SAMPLES) latencies.push(Number(process.hrtime.bigint() - at) / 1000);
  }
  const count = (pending.get(seq) ?? 0) + 1;
  if (count < receivers) {
    pending.set(seq, count);
    return;
  }
  pending.delete(seq);
  publishedAt.delete(seq);
  // Messages complete in order: each socket gets them in order.
  if (seq > completed) completed = seq;
  publish();
}

let publisher: Socket | null = null;
const filler = 'x'.repeat(size);

function publish(): void {
  while (publisher !== null && sent - 1 - completed < inflight) {
    const seq = sent++;
    const head = `${seq}:`;
    publishedAt.set(seq, process.hrtime.bigint());
    publisher.emit('publish', head + filler.slice(head.length));
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function main(): Promise<void> {
  const sockets: Socket[] = [];
  // At most 50 handshakes at a time.
  for (let i = 0; i < receivers; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, receivers - i) }, () => open())).catch((error: unknown) =>
      fail(`connect: ${(error as Error).message}`),
    );
    for (const socket of batch) socket.on('m', onDelivery);
    sockets.push(...batch);
  }
  publisher = await open().catch((error: unknown) => fail(`publisher connect: ${(error as Error).message}`));
  clearTimeout(setupTimer);
  publish();
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  process.stdout.write('MEASURE start\n');
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  measuring = true;
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  measuring = false;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write('MEASURE end\n');
  for (const socket of [...sockets, publisher]) socket.disconnect();
  latencies.sort((a, b) => a - b);
  const result = {
    ok: deliveries > 0,
    ...(deliveries > 0 ? {} : { error: 'no deliveries in the measured window' }),
    mode: 'socketio-broadcast',
    receivers,
    inflight,
    deliveries,
    deliveries_per_s: deliveries / seconds,
    published: sent,
    latency_us: { count: latencies.length, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
    loadgen_cpu: (cpu.user + cpu.system) / 1e6 / seconds,
    loadgen_cpu_user: cpu.user / 1e6 / seconds,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(result.ok ? 0 : 1);
}

main().catch((error: unknown) => fail((error as Error).message));
