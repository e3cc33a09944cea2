/**
 * The messages between the cluster primary and its workers over the node:cluster IPC channel
 * (advanced serialization, so buffers pass as bytes). Each carries `wsforge` so that an
 * application's own `process.send` messages on the same channel are left alone.
 */

/** Worker to primary. */
export type WorkerMessage =
  | { wsforge: 'ready'; port: number }
  | { wsforge: 'failed'; message: string }
  | { wsforge: 'subscribe'; topic: string }
  | { wsforge: 'unsubscribe'; topic: string }
  | { wsforge: 'publish'; batch: Uint8Array };

/** Primary to worker. */
export type PrimaryMessage = { wsforge: 'publish'; batch: Uint8Array } | { wsforge: 'stop' };

/** Whether an IPC message is one of ours (the sender is trusted: it is our own process tree). */
export function isClusterMessage(message: unknown): message is { wsforge: string } {
  return typeof message === 'object' && message !== null && typeof (message as { wsforge?: unknown }).wsforge === 'string';
}

/** Environment variables a worker is started with. */
export const ENV_WORKER_ID = 'WSFORGE_CLUSTER_WORKER';
export const ENV_PORT = 'WSFORGE_CLUSTER_PORT';
export const ENV_DISTRIBUTION = 'WSFORGE_CLUSTER_DISTRIBUTION';
