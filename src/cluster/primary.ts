/**
 * The cluster primary: forks the workers (node:cluster), gives them the port, relays their
 * publishes to each other, restarts a worker that dies (with a backoff when it dies young), and
 * on close (or SIGINT/SIGTERM) has every worker close its clients with 1001, then exits 0.
 *
 * With port 0 the first worker picks the port and the others are started on it. In `reuseport`
 * mode each worker binds that port itself; in `primary` mode node:cluster's primary binds it
 * and hands connections out round-robin.
 */
import nodeCluster, { type Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import { chooseDistribution, type Distribution } from './distribution.js';
import { ENV_DISTRIBUTION, ENV_PORT, ENV_WORKER_ID, isClusterMessage, type PrimaryMessage, type WorkerMessage } from './ipc-messages.js';
import { type ClusterOptions, DEFAULT_SHUTDOWN_TIMEOUT } from './options.js';
import { PublishRelay } from './publish-relay.js';

export interface ClusterPrimaryEvents {
  /** A worker is serving (first start or restart). */
  online: [id: number, pid: number];
  /** A worker process exited; `restartIn` is the delay before its replacement starts (null: not restarted). */
  exit: [id: number, code: number | null, signal: string | null, restartIn: number | null];
}

/** A worker that lived shorter than this counts as a failed start: its restarts back off. */
const HEALTHY_UPTIME = 5000;
const FIRST_BACKOFF = 100;
const MAX_BACKOFF = 5000;

/** One worker's place: its number survives restarts. */
interface Slot {
  id: number;
  worker: Worker | null;
  pid: number | null;
  startedAt: number;
  ready: boolean;
  /** Deaths in a row, each shorter than HEALTHY_UPTIME. */
  failures: number;
  restartTimer: NodeJS.Timeout | null;
  failure: string | null;
}

export class ClusterPrimary extends EventEmitter<ClusterPrimaryEvents> {
  readonly role = 'primary' as const;
  readonly distribution: Distribution;
  /** How many workers run. */
  readonly size: number;
  private currentPort: number;
  private readonly address: string;
  /** Every worker served once: from now on a worker that dies is restarted. */
  private started = false;
  private readonly slots: Slot[] = [];
  private readonly relay: PublishRelay;
  private stopping: Promise<void> | null = null;
  private readonly exitWaiters = new Set<() => void>();

  constructor(private readonly options: ClusterOptions) {
    super();
    this.distribution = chooseDistribution(options.distribution);
    this.size = workerCount(options.workers);
    this.currentPort = options.port ?? 0;
    this.address = options.host ?? '127.0.0.1';
    this.relay = new PublishRelay((id, batch) => this.sendTo(id, { wsforge: 'publish', batch }));
    for (let id = 1; id <= this.size; id++) {
      this.slots.push({ id, worker: null, pid: null, startedAt: 0, ready: false, failures: 0, restartTimer: null, failure: null });
    }
  }

  /** The port every worker serves. */
  get port(): number {
    return this.currentPort;
  }

  /** The address every worker serves. */
  get host(): string {
    return this.address;
  }

  /** The PIDs of the running workers, by worker number (null while one restarts). */
  workerPids(): Array<number | null> {
    return this.slots.map((slot) => slot.pid);
  }

  /** @internal Fork every worker; resolves when all serve, rejects if one fails to start (`cluster()` calls it). */
  async start(): Promise<void> {
    // Buffers pass through IPC as bytes, not as JSON arrays of numbers.
    nodeCluster.setupPrimary({ serialization: 'advanced' });
    if (this.options.handleSignals !== false) {
      const onSignal = (): void => {
        void this.close().then(() => process.exit(0));
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    }
    const [first, ...rest] = this.slots;
    try {
      // node:cluster shares one listening socket per address and port as the workers ask for
      // it, so they must all ask for the same port: pick it here. With reusePort the first
      // worker settles the port (no window in which another process could take it).
      if (this.currentPort === 0 && this.distribution === 'primary') this.currentPort = await freePort(this.address);
      await this.startSlot(first!);
      await Promise.all(rest.map((slot) => this.startSlot(slot)));
      this.started = true;
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Have every worker close its clients (1001) and exit; workers still running after shutdownTimeout are killed. */
  close(): Promise<void> {
    if (this.stopping !== null) return this.stopping;
    this.stopping = (async () => {
      for (const slot of this.slots) {
        if (slot.restartTimer !== null) clearTimeout(slot.restartTimer);
        slot.restartTimer = null;
      }
      const running = (): Slot[] => this.slots.filter((slot) => slot.worker !== null);
      for (const slot of running()) this.sendTo(slot.id, { wsforge: 'stop' });
      const deadline = setTimeout(() => {
        for (const slot of running()) slot.worker?.process.kill('SIGKILL');
      }, this.options.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT);
      while (running().length > 0) await new Promise<void>((resolve) => this.exitWaiters.add(resolve));
      clearTimeout(deadline);
    })();
    return this.stopping;
  }

  private startSlot(slot: Slot): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const worker = nodeCluster.fork({
        [ENV_WORKER_ID]: String(slot.id),
        [ENV_PORT]: String(this.currentPort),
        [ENV_DISTRIBUTION]: this.distribution,
      });
      slot.worker = worker;
      slot.pid = worker.process.pid ?? null;
      slot.startedAt = Date.now();
      slot.ready = false;
      slot.failure = null;
      worker.on('message', (message: unknown) => {
        if (!isClusterMessage(message)) return;
        const m = message as WorkerMessage;
        switch (m.wsforge) {
          case 'publish':
            this.relay.publish(slot.id, m.batch);
            break;
          case 'subscribe':
            this.relay.subscribe(slot.id, m.topic);
            break;
          case 'unsubscribe':
            this.relay.unsubscribe(slot.id, m.topic);
            break;
          case 'ready':
            slot.ready = true;
            if (this.currentPort === 0) this.currentPort = m.port;
            this.emit('online', slot.id, slot.pid ?? -1);
            resolve();
            break;
          case 'failed':
            slot.failure = m.message;
            break;
        }
      });
      // node:cluster re-emits the worker's errors (a failed IPC write to a dying worker): 'exit' follows.
      worker.on('error', () => {});
      worker.once('exit', (code: number | null, signal: string | null) => {
        const wasReady = slot.ready;
        this.relay.forget(slot.id);
        slot.worker = null;
        slot.pid = null;
        slot.ready = false;
        for (const wake of this.exitWaiters) wake();
        this.exitWaiters.clear();
        if (!wasReady) {
          const why = slot.failure ?? (signal !== null ? `killed by ${signal}` : `exited with code ${String(code)}`);
          reject(new Error(`worker ${slot.id} did not start: ${why}`));
        }
        // A worker that never served while the cluster starts fails the start instead (no crash loop on a bad config).
        const restartIn = this.stopping !== null || (!wasReady && !this.started) ? null : this.backoff(slot);
        this.emit('exit', slot.id, code, signal, restartIn);
        if (restartIn === null) return;
        slot.restartTimer = setTimeout(() => {
          slot.restartTimer = null;
          if (this.stopping === null) this.startSlot(slot).catch(() => {}); // a failed restart schedules the next one
        }, restartIn);
      });
    });
  }

  private backoff(slot: Slot): number {
    if (Date.now() - slot.startedAt >= HEALTHY_UPTIME) {
      slot.failures = 0;
      return 0;
    }
    slot.failures++;
    return Math.min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (slot.failures - 1));
  }

  private sendTo(id: number, message: PrimaryMessage): void {
    const worker = this.slots[id - 1]?.worker;
    if (worker === null || worker === undefined || !worker.isConnected()) return;
    worker.send(message);
  }
}

/** A port free on `host` right now (bound, then released). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ port: 0, host, exclusive: true }, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function workerCount(workers: number | 'auto' | undefined): number {
  if (workers === undefined) return 1;
  if (workers === 'auto') return os.availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer or 'auto', got ${String(workers)}`);
  return workers;
}
