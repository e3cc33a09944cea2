/**
 * `wsforge serve --workers N --redis URL`: how many processes serve the port and how their
 * broadcasts meet. One worker (the default) is one process, as without the flags; more run a
 * wsforge/cluster primary and N workers on one port; `--redis` attaches every server process to
 * a Redis so that servers on other ports or machines share the broadcasts too. The command
 * builds its server with `startOne`; this file decides how many and with which pubsub adapter,
 * prints the readiness line, and stops on SIGINT/SIGTERM (every client closed with 1001, exit 0).
 */
import type { AddressInfo } from 'node:net';
import { cluster } from '../cluster/index.js';
import type { PubSubAdapter } from '../index.js';
import { redisPubSub } from '../redis/index.js';

export interface ScalingOptions {
  workers: number | 'auto';
  redis: string | undefined;
}

/** One server of the command: started by `startOne`, stopped with its clients closed with 1001. */
export interface CommandServer {
  address(): AddressInfo | string | null;
  close(): Promise<void>;
}

export interface ServerStart {
  listen: { port: number; host: string; reusePort?: true };
  /** Shares broadcasts with the other processes (workers or servers on Redis); undefined: this process alone. */
  pubsub: PubSubAdapter | undefined;
  /** The worker's number with --workers, else undefined. */
  worker: number | undefined;
}

/** Check --workers and --redis; throws a usage message. */
export function scalingOptions(workers: string | undefined, redis: string | undefined): ScalingOptions {
  let count: number | 'auto' = 1;
  if (workers === 'auto') count = 'auto';
  else if (workers !== undefined) {
    count = Number(workers);
    if (!Number.isInteger(count) || count < 1) throw new Error(`--workers must be a positive integer or auto, got "${workers}"`);
  }
  if (redis !== undefined && !/^rediss?:\/\//.test(redis)) throw new Error(`--redis must be a redis:// or rediss:// URL, got "${redis}"`);
  return { workers: count, redis };
}

function redisAdapter(url: string, log: (line: string) => void): PubSubAdapter {
  const adapter = redisPubSub({ url });
  adapter.on('status', (status, error) => log(`redis ${status}${error === undefined ? '' : `: ${error.message}`}`));
  return adapter;
}

function urlOf(address: AddressInfo | string | null, scheme: string): string {
  if (address === null || typeof address === 'string') return `${scheme}://${String(address)}`;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${scheme}://${host}:${address.port}`;
}

/**
 * Run the command's server in this process or in a cluster, print "listening on URL" once every
 * process serves, and stop on SIGINT/SIGTERM.
 */
export async function serveScaled(
  scaling: ScalingOptions,
  where: { host: string; port: number; scheme: 'ws' | 'wss' },
  startOne: (start: ServerStart) => Promise<CommandServer>,
  log: (line: string) => void,
): Promise<void> {
  const pubsubFor = (shared: PubSubAdapter | undefined): PubSubAdapter | undefined =>
    scaling.redis === undefined ? shared : redisAdapter(scaling.redis, log);
  if (scaling.workers === 1) {
    const server = await startOne({ listen: { port: where.port, host: where.host }, pubsub: pubsubFor(undefined), worker: undefined });
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      void server.close().then(() => process.exit(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    process.stdout.write(`listening on ${urlOf(server.address(), where.scheme)}\n`);
    return;
  }
  const run = await cluster({
    workers: scaling.workers,
    port: where.port,
    host: where.host,
    serve: ({ id, listen, pubsub }) => startOne({ listen, pubsub: pubsubFor(pubsub), worker: id }),
  });
  if (run.role === 'worker') return;
  run.on('exit', (id, code, signal, restartIn) => {
    log(`worker ${id} exited (${signal ?? `code ${String(code)}`})${restartIn === null ? '' : `, restarting in ${restartIn} ms`}`);
  });
  run.on('online', (id, pid) => log(`worker ${id} serving (pid ${pid})`));
  const host = where.host.includes(':') ? `[${where.host}]` : where.host;
  process.stdout.write(`listening on ${where.scheme}://${host}:${run.port}\n`);
  log(`${run.size} workers, connections handed out by ${run.distribution === 'reuseport' ? 'the kernel (reusePort)' : 'the node:cluster primary'}`);
}
