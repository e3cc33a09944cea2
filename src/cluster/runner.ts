/**
 * `cluster()`: one entry for both sides. In the process you start it is the primary (it forks
 * the workers, which run the same script); in a worker it runs your serve function.
 */
import type { ClusterOptions } from './options.js';
import { ClusterPrimary } from './primary.js';
import { type ClusterWorker, isClusterWorkerProcess, runWorker } from './worker.js';

/**
 * Serve one port from several processes. Resolves in the primary once every worker serves
 * (rejects if one fails to start), and in each worker once its server is listening.
 */
export async function cluster(options: ClusterOptions): Promise<ClusterPrimary | ClusterWorker> {
  if (isClusterWorkerProcess()) return runWorker(options);
  const primary = new ClusterPrimary(options);
  await primary.start();
  return primary;
}
