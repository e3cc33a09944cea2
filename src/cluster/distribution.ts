/**
 * Who hands a worker its connections. `reuseport`: every worker binds the port itself with
 * SO_REUSEPORT and the kernel spreads new connections among the listening sockets (no process
 * in between; Node >= 22.12 on Linux). `primary`: node:cluster's primary holds the one listening
 * socket, accepts, and passes each connection to a worker in turn (round-robin) over IPC.
 */
export type Distribution = 'reuseport' | 'primary';

/**
 * Whether `listen({ reusePort: true })` works here: Node 22.12+ (23.1+ on the odd line) on
 * Linux. Older Node ignores the option (a second listener would get EADDRINUSE); macOS and
 * Windows throw instead of falling back.
 */
export function supportsReusePort(version: string = process.versions.node, platform: NodeJS.Platform = process.platform): boolean {
  if (platform !== 'linux') return false;
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major >= 24) return true;
  if (major === 23) return minor >= 1;
  if (major === 22) return minor >= 12;
  return false;
}

/** `auto`: reusePort where it works, the node:cluster primary otherwise. */
export function chooseDistribution(requested: Distribution | 'auto' = 'auto'): Distribution {
  if (requested === 'reuseport' && !supportsReusePort()) {
    throw new Error(`distribution "reuseport" needs Node >= 22.12 on Linux (this is Node ${process.versions.node} on ${process.platform})`);
  }
  if (requested !== 'auto') return requested;
  return supportsReusePort() ? 'reuseport' : 'primary';
}
