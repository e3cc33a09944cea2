/** What `cluster()` takes, and what each worker's serve function gets and gives back. */
import type { AddressInfo } from 'node:net';
import type { PubSubAdapter } from '../pubsub/adapter.js';
import type { Distribution } from './distribution.js';

export interface ClusterOptions {
  /** Worker processes: a number, or `'auto'` for one per CPU (`os.availableParallelism()`). Default 1. */
  workers?: number | 'auto';
  /** The port every worker serves. Default 0: a free port, picked by the first worker to listen. */
  port?: number;
  /** The address every worker serves. Default `127.0.0.1`. */
  host?: string;
  /**
   * Who hands out connections: `'reuseport'` (each worker binds the port with SO_REUSEPORT and
   * the kernel spreads connections; Node >= 22.12 on Linux), `'primary'` (node:cluster's primary
   * accepts and passes connections round-robin), or `'auto'` (default): reuseport where it works.
   */
  distribution?: Distribution | 'auto';
  /**
   * Runs in every worker process: create the server (with `context.pubsub` as its `pubsub`
   * option, for publishes to reach the other workers), listen with `context.listen`, and return
   * it. A worker that throws here stops the cluster while it starts, and is restarted later on.
   */
  serve(context: WorkerContext): WorkerServer | Promise<WorkerServer>;
  /** How long workers may take to close their clients (1001) on shutdown before they are killed, ms. Default 10000. */
  shutdownTimeout?: number;
  /**
   * Handle SIGINT and SIGTERM: the primary closes every worker (each closes its clients with
   * 1001) and exits 0; a worker that gets one closes its clients and exits 0. Default true.
   */
  handleSignals?: boolean;
}

export interface WorkerContext {
  /** This worker's number, 1..workers; a restarted worker keeps the number of the one it replaces. */
  id: number;
  /** Cross-worker publish through the primary, for one server's `pubsub` option. */
  pubsub: PubSubAdapter;
  /** Pass to `wss.listen(...)` (or an http server's `listen(...)`): the shared port, and `reusePort` when the kernel distributes. */
  listen: { port: number; host: string; reusePort?: true };
  distribution: Distribution;
}

/** What a worker serves: a WebSocketServer fits, or any object that can say its address and close. */
export interface WorkerServer {
  /** The bound address: with port 0 the cluster learns its port from the first worker. */
  address(): AddressInfo | string | null;
  /** Close every client with 1001 and stop; resolves when they are gone. */
  close(): Promise<void> | void;
}

export const DEFAULT_SHUTDOWN_TIMEOUT = 10_000;
