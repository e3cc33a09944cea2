// Real proxy servers for the client's proxy tests, from Debian: tinyproxy (HTTP CONNECT, with
// and without Basic auth) and microsocks (SOCKS5, with and without username/password). Each
// runs in its own process on a free loopback port, with its configuration in a temp dir, and is
// stopped by its PID. A missing binary fails the test with the command that installs it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delay } from '../helpers/timing.js';
import { PeerProcess, requirePath } from './peer-process.js';

export const TINYPROXY = '/usr/bin/tinyproxy';
export const MICROSOCKS = '/usr/bin/microsocks';
const INSTALL = 'apt-get install -y tinyproxy microsocks (.ci/run installs both)';

/** A port that was free a moment ago (the proxies take a port number, not port 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Wait until something accepts TCP connections on 127.0.0.1:port (bounded). */
async function waitForListening(port: number, process: PeerProcess, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = netConnect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (accepted) return;
    if (process.exited || Date.now() > deadline) throw new Error(`the proxy is not listening on 127.0.0.1:${port} after ${ms} ms\n${process.describe()}`);
    await delay(20);
  }
}

export interface RunningProxy {
  readonly port: number;
  readonly process: PeerProcess;
  /** The proxy URL, with credentials when given. */
  url(credentials?: { username: string; password: string }): string;
  stop(): Promise<void>;
}

export interface TinyproxyOptions {
  /** Require Basic auth with this user. */
  basicAuth?: { username: string; password: string };
  /** Allow CONNECT to these ports only (tinyproxy's ConnectPort); default: any port. */
  connectPorts?: number[];
}

/**
 * tinyproxy in the foreground (-d), logging to stdout: every request line it handles is in
 * `process.lines` (for instance `CONNECT 127.0.0.1:PORT HTTP/1.1`).
 */
export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<RunningProxy> {
  requirePath(TINYPROXY, 'tinyproxy', INSTALL);
  const dir = mkdtempSync(join(tmpdir(), 'wsforge-tinyproxy-'));
  const port = await freePort();
  const lines = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 30',
    'MaxClients 100',
    'LogLevel Info',
    'Allow 127.0.0.1',
    'DisableViaHeader Yes',
  ];
  if (options.basicAuth !== undefined) lines.push(`BasicAuth ${options.basicAuth.username} ${options.basicAuth.password}`);
  for (const allowed of options.connectPorts ?? []) lines.push(`ConnectPort ${allowed}`);
  const config = join(dir, 'tinyproxy.conf');
  writeFileSync(config, `${lines.join('\n')}\n`);
  const process = new PeerProcess('tinyproxy', TINYPROXY, ['-d', '-c', config]);
  try {
    await process.waitForLine(/Accepting connections/, 5000, 'its readiness line');
    await waitForListening(port, process, 5000);
  } catch (error) {
    await process.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    process,
    url: (credentials) => `http://${credentials === undefined ? '' : `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@`}127.0.0.1:${port}`,
    async stop() {
      await process.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** microsocks on a free loopback port; with `auth`, username/password (RFC 1929) is required. */
export async function startMicrosocks(auth?: { username: string; password: string }): Promise<RunningProxy> {
  requirePath(MICROSOCKS, 'microsocks', INSTALL);
  const port = await freePort();
  const args = ['-i', '127.0.0.1', '-p', String(port), ...(auth === undefined ? [] : ['-u', auth.username, '-P', auth.password])];
  const process = new PeerProcess('microsocks', MICROSOCKS, args);
  try {
    await waitForListening(port, process, 5000);
  } catch (error) {
    await process.stop();
    throw error;
  }
  return {
    port,
    process,
    url: (credentials) => `socks5://${credentials === undefined ? '' : `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@`}127.0.0.1:${port}`,
    async stop() {
      await process.stop();
    },
  };
}
