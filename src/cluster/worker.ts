/**
 * A cluster worker: runs the application's serve function with the shared port and the
 * cross-worker pubsub adapter, tells the primary it is ready, and closes its clients with
 * 1001 when the primary says stop, on SIGINT/SIGTERM, or when the primary is gone.
 */
import nodeCluster from 'node:cluster';
import type { Distribution } from './distribution.js';
import { ENV_DISTRIBUTION, ENV_PORT, ENV_WORKER_ID, isClusterMessage, type WorkerMessage } from './ipc-messages.js';
import type { ClusterOptions, WorkerContext, WorkerServer } from './options.js';
import { processChannel, WorkerPubSub } from './worker-pubsub.js';

/** A running worker, as `cluster()` resolves in a worker process. */
export interface ClusterWorker {
  readonly role: 'worker';
  readonly id: number;
  readonly port: number;
  readonly distribution: Distribution;
}

/** A node:cluster worker forked by a wsforge/cluster primary (node:cluster's own marker is not inherited further). */
export function isClusterWorkerProcess(): boolean {
  return nodeCluster.isWorker && process.env[ENV_WORKER_ID] !== undefined;
}

export async function runWorker(options: ClusterOptions): Promise<ClusterWorker> {
  const id = Number(process.env[ENV_WORKER_ID]);
  const distribution: Distribution = process.env[ENV_DISTRIBUTION] === 'reuseport' ? 'reuseport' : 'primary';
  const host = options.host ?? '127.0.0.1';
  const port = Number(process.env[ENV_PORT] ?? 0);
  // Processes this worker starts are not workers of this cluster.
  for (const name of [ENV_WORKER_ID, ENV_DISTRIBUTION, ENV_PORT]) delete process.env[name];
  const pubsub = new WorkerPubSub(processChannel());
  const context: WorkerContext = {
    id,
    pubsub,
    listen: distribution === 'reuseport' ? { port, host, reusePort: true } : { port, host },
    distribution,
  };
  let server: WorkerServer;
  try {
    server = await options.serve(context);
  } catch (error) {
    // Said before exiting, so the primary can report why the cluster did not start.
    return sendThenExit({ wsforge: 'failed', message: error instanceof Error ? error.message : String(error) }, 1);
  }
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      try {
        await server.close();
        await pubsub.close();
      } finally {
        process.exit(0);
      }
    })();
  };
  process.on('message', (message: unknown) => {
    if (isClusterMessage(message) && message.wsforge === 'stop') stop();
  });
  // The primary is gone (killed): nobody would restart or stop this worker, so it stops.
  process.on('disconnect', stop);
  if (options.handleSignals !== false) {
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  }
  process.send!({ wsforge: 'ready', port: boundPort } satisfies WorkerMessage);
  return { role: 'worker', id, port: boundPort, distribution };
}

function sendThenExit(message: WorkerMessage, code: number): Promise<never> {
  return new Promise<never>(() => {
    if (!process.connected) process.exit(code);
    process.send!(message, () => process.exit(code));
  });
}
