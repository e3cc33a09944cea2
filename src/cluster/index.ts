/**
 * wsforge/cluster: serve one port from several processes (every core), with publishes that
 * reach the subscribers in every worker. See README "Scaling".
 */
export { cluster } from './runner.js';
export { ClusterPrimary, type ClusterPrimaryEvents } from './primary.js';
export type { ClusterWorker } from './worker.js';
export { DEFAULT_SHUTDOWN_TIMEOUT, type ClusterOptions, type WorkerContext, type WorkerServer } from './options.js';
export { chooseDistribution, supportsReusePort, type Distribution } from './distribution.js';
