/**
 * Well-behaved clients that measure what an attack does to everyone else: echo round trips, and
 * broadcast deliveries (publish to arrival). They run in the test process, over real sockets, with
 * the library's own client; every reply is checked.
 */
import { connect, type WebSocket } from '../../src/index.js';
import { waitUntil } from '../helpers/timing.js';

export interface Latencies {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Percentiles of a list of milliseconds (nearest rank). */
export function summarize(samples: readonly number[]): Latencies {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]! };
}

export function describeLatencies(l: Latencies): string {
  return `${l.count} samples, p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms`;
}

/**
 * A client that sends a small message, waits for its echo, and does it again until stopped
 * (one in flight). A reply that differs, or none within `replyTimeoutMs`, is an error.
 */
export class EchoProbe {
  readonly rtts: number[] = [];
  readonly errors: string[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  private constructor(
    private readonly ws: WebSocket,
    private readonly replyTimeoutMs: number,
  ) {
    this.loop = this.run();
  }

  static async start(port: number, replyTimeoutMs = 10_000): Promise<EchoProbe> {
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    ws.on('error', () => {});
    return new EchoProbe(ws, replyTimeoutMs);
  }

  private async run(): Promise<void> {
    for (let n = 0; this.running; n++) {
      if (this.ws.readyState !== 1) {
        this.errors.push(`the probe's connection is not open (readyState ${this.ws.readyState})`);
        return;
      }
      const text = `probe ${n} ${'x'.repeat(n % 64)}`;
      const started = performance.now();
      // listening before the send, so an echo cannot be missed
      const reply = this.nextReply();
      this.ws.send(text);
      const data = await reply;
      if (data === null) return;
      if (data !== text) {
        this.errors.push(`echo ${n}: expected ${JSON.stringify(text)}, got ${JSON.stringify(String(data).slice(0, 80))}`);
        return;
      }
      this.rtts.push(performance.now() - started);
      // leave the server a moment between round trips: a probe, not a load
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** The next message; null (and an error recorded) when the connection closes or nothing comes in time. */
  private nextReply(): Promise<string | Buffer | null> {
    const ws = this.ws;
    return new Promise<string | Buffer | null>((resolve) => {
      const timer = setTimeout(() => {
        cleanup();
        this.errors.push(`no echo within ${this.replyTimeoutMs} ms`);
        resolve(null);
      }, this.replyTimeoutMs);
      const onMessage = (data: string | Buffer): void => {
        cleanup();
        resolve(data);
      };
      const onClose = (code: number): void => {
        cleanup();
        this.errors.push(`the probe's connection closed with ${code}`);
        resolve(null);
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        ws.off('message', onMessage);
        ws.off('close', onClose);
      };
      ws.on('message', onMessage);
      ws.on('close', onClose);
    });
  }

  /** Stop after the round trip in flight; the connection is closed. */
  async stop(): Promise<Latencies> {
    this.running = false;
    await this.loop;
    this.ws.terminate();
    return summarize(this.rtts);
  }
}

const MESSAGE_SIZE = 1024;

/**
 * A publisher and receivers on a broadcast server: the publisher sends numbered 1 KiB text
 * messages every `everyMs`; each receiver records when each number arrived. A receiver must get
 * every message, once, in order.
 */
export class BroadcastProbe {
  private sent = 0;
  private readonly sentAt: number[] = [];
  private readonly received: number[][];
  readonly latencies: number[][];
  readonly errors: string[] = [];
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly publisher: WebSocket,
    private readonly receivers: WebSocket[],
  ) {
    this.received = receivers.map(() => []);
    this.latencies = receivers.map(() => []);
    receivers.forEach((ws, i) => {
      ws.on('message', (data) => this.arrived(i, String(data)));
      ws.on('close', (code) => this.errors.push(`receiver ${i} closed with ${code}`));
    });
    // The publisher gets its own messages back too (broadcast goes to every client); it reads them.
    publisher.on('message', () => {});
    publisher.on('close', (code) => this.errors.push(`the publisher closed with ${code}`));
  }

  static async start(port: number, receiverCount: number): Promise<BroadcastProbe> {
    const url = `ws://127.0.0.1:${port}/`;
    const receivers = await Promise.all(Array.from({ length: receiverCount }, () => connect(url)));
    const publisher = await connect(url);
    const probe = new BroadcastProbe(publisher, receivers);
    for (const [i, ws] of [...receivers, publisher].entries()) {
      ws.on('error', (error) => probe.errors.push(`${i < receiverCount ? `receiver ${i}` : 'the publisher'}: ${error.code} ${error.message}`));
    }
    return probe;
  }

  /** The receivers and the publisher: the server's clients that are not the attacker's. */
  get connectionCount(): number {
    return this.receivers.length + 1;
  }

  get publishedCount(): number {
    return this.sent;
  }

  /** Publish one message every `everyMs` until `stopPublishing()`. */
  startPublishing(everyMs: number): void {
    this.timer = setInterval(() => this.publishOne(), everyMs);
  }

  stopPublishing(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private publishOne(): void {
    if (this.publisher.readyState !== 1) return;
    const n = this.sent++;
    this.sentAt.push(performance.now());
    const head = `${n} `;
    this.publisher.send(head + '.'.repeat(MESSAGE_SIZE - head.length));
  }

  private arrived(receiver: number, text: string): void {
    const n = Number(text.slice(0, text.indexOf(' ')));
    const list = this.received[receiver]!;
    if (text.length !== MESSAGE_SIZE || n !== list.length) {
      this.errors.push(`receiver ${receiver}: expected message ${list.length} of ${MESSAGE_SIZE} chars, got number ${n} of ${text.length}`);
      return;
    }
    list.push(n);
    this.latencies[receiver]!.push(performance.now() - this.sentAt[n]!);
  }

  /** Whether every receiver has every message published so far. */
  allDelivered(): boolean {
    return this.received.every((list) => list.length === this.sent);
  }

  /** Latencies of every receiver, together. */
  summary(): Latencies {
    return summarize(this.latencies.flat());
  }

  /** Latencies of the messages published after `fromMessage`. */
  summaryFrom(fromMessage: number): Latencies {
    return summarize(this.latencies.flatMap((list) => list.slice(fromMessage)));
  }

  /** Wait until every receiver has every message; on timeout the error says who has what, and what went wrong. */
  async waitForAllDelivered(timeoutMs: number): Promise<void> {
    try {
      await waitUntil(() => this.allDelivered(), timeoutMs, 'every good client has every message');
    } catch (error) {
      const detail = `delivered ${this.deliveredCounts().join(', ')} of ${this.sent}; errors: ${this.errors.slice(0, 5).join('; ') || 'none'}`;
      throw new Error(`${(error as Error).message} (${detail})`);
    }
  }

  deliveredCounts(): number[] {
    return this.received.map((list) => list.length);
  }

  close(): void {
    this.stopPublishing();
    for (const ws of [...this.receivers, this.publisher]) ws.terminate();
  }
}
