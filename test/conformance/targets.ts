// The implementations under test. A target is started once per suite run and opens one connection per case:
// - a server target is a process serving WebSocket echo (wsforge's CLI, or the ws peer); the driver connects;
// - a client target connects to the driver's fuzzing server and echoes every message, either in this process
//   (the library) or as a process spawned per case (the CLI).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkClientOffer, checkServerResponse } from './deflate.js';
import { clientHandshake, checkUpgradeRequest, normaliseExtensions, upgradeResponse } from './handshake.js';
import { FuzzingServer } from './fuzzing-server.js';
import { checkExtendedConnect, fixturePath, Http2FuzzingServer, Http2Origin, openServerCaseHttp2, readCa } from './http2-transport.js';
import { readFileSync } from 'node:fs';
import { Wire, negotiatedExtensions } from './wire.js';
import { WS_LIMITS } from './peers/ws-limits.js';
import type { Case, Side } from './types.js';

/** Repository root (this file is build/test/conformance/targets.js once compiled). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WSFORGE_CLI = `${ROOT}dist/cli/main.js`;
const WSFORGE_LIB = `${ROOT}build/src/index.js`;
const PEERS = fileURLToPath(new URL('./peers/', import.meta.url));

export interface OpenedCase {
  wire: Wire;
  /** Tears the connection (and the client under test) down. */
  cleanup(): Promise<CleanupReport>;
}

/** What tearing a case down showed: notes for the report, and problems that fail the case. */
export interface CleanupReport {
  notes: string[];
  problems: string[];
}

export interface TargetSession {
  name: string;
  side: Side;
  describe: string;
  /** Opens the connection for one case, handshake done. Throws with a message on failure. */
  open(kase: Case, timeoutMs: number): Promise<OpenedCase>;
  /** Notes about the target as a whole (e.g. the server process died), for every failure report. */
  health(): string | null;
  stop(): Promise<void>;
}

export interface TargetDefinition {
  name: string;
  side: Side;
  describe: string;
  /**
   * permessage-deflate: `none` = the target cannot negotiate it (compression cases skipped; default for
   * servers), `only` = the target is configured for it and runs only the compression cases, `per-case` = the
   * case enables it (clients; default for clients).
   */
  compression?: 'none' | 'only' | 'per-case';
  /** Why the target cannot run here (e.g. not built), or null. */
  unavailable(): string | null;
  start(): Promise<TargetSession>;
}

// ---------------------------------------------------------------------------------------------- processes

const TAIL = 4000;

/** A child process we started, with bounded output capture and a bounded stop (by its PID only). */
class Child {
  readonly proc: ChildProcess;
  /** Last TAIL characters of stdout+stderr. */
  out = '';
  /** First TAIL characters of stdout+stderr (the start of an error is often the useful part). */
  head = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly exited: Promise<void>;

  constructor(args: string[]) {
    this.proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
    const keep = (d: Buffer): void => {
      const text = d.toString('utf8');
      if (this.head.length < TAIL) this.head += text.slice(0, TAIL - this.head.length);
      this.out = (this.out + text).slice(-TAIL);
    };
    this.proc.stdout!.on('data', keep);
    this.proc.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
      this.proc.on('error', (err) => {
        this.out += `\nspawn error: ${err.message}`;
        this.exit ??= { code: null, signal: null };
        resolve();
      });
    });
  }

  /** Waits up to `graceMs` for a voluntary exit, then SIGTERM, then SIGKILL. Returns true if it exited by itself. */
  async stop(graceMs: number): Promise<boolean> {
    if (this.exit !== null) return true;
    const timeout = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());
    await Promise.race([this.exited, timeout(graceMs)]);
    if (this.exit !== null) return true;
    this.proc.kill('SIGTERM');
    await Promise.race([this.exited, timeout(2000)]);
    if (this.exit === null) {
      this.proc.kill('SIGKILL');
      await Promise.race([this.exited, timeout(2000)]);
    }
    return false;
  }

  /** Output for a report: all of it when short, else its start and its end. */
  excerpt(max = 600): string {
    if (this.out.length <= max && this.head === this.out) return this.out;
    return `${this.head.slice(0, max / 2)} [...] ${this.out.slice(-max / 2)}`;
  }

  describeExit(): string {
    if (this.exit === null) return 'still running';
    return this.exit.signal !== null ? `killed by ${this.exit.signal}` : `exit code ${this.exit.code}`;
  }
}

// ---------------------------------------------------------------------------------------------- servers

/**
 * A server process that prints `listening on ws://HOST:PORT` (or wss://) when ready. `transport` is how the
 * driver reaches it: one TCP connection per case (`tcp`), or one HTTP/2 stream per case (`h2`, RFC 8441).
 */
function serverTarget(
  name: string,
  describe: string,
  args: string[],
  needs: string[],
  compression: 'none' | 'only' = 'none',
  transport: 'tcp' | 'h2' = 'tcp',
): TargetDefinition {
  return {
    name,
    side: 'server',
    describe,
    compression,
    unavailable: () => {
      const missing = needs.filter((p) => !existsSync(p));
      return missing.length > 0 ? `not built: ${missing.join(', ')} missing (run npm run build / build:test)` : null;
    },
    async start() {
      const child = new Child(args);
      const { host, port } = await new Promise<{ host: string; port: number }>((resolve, reject) => {
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${describe}: no "listening on ws(s)://HOST:PORT" within 15 s; output: ${child.out}`));
        }, 15000);
        const onData = (): void => {
          const m = /listening on wss?:\/\/(\[[^\]]+\]|[^\s:/]+):(\d+)/.exec(child.out);
          if (m !== null) {
            cleanup();
            resolve({ host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) });
          }
        };
        const onExit = (): void => {
          cleanup();
          reject(new Error(`${describe}: exited (${child.describeExit()}) before listening; output: ${child.out}`));
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          child.proc.stdout!.off('data', onData);
          child.proc.off('exit', onExit);
        };
        child.proc.stdout!.on('data', onData);
        child.proc.on('exit', onExit);
        onData();
      }).catch(async (err: unknown) => {
        await child.stop(0);
        throw err;
      });
      // Over HTTP/2 the cases share one connection to the server, as a browser's tabs do.
      const origin = transport === 'h2' ? new Http2Origin(host, port, readCa(ROOT)) : null;
      return {
        name,
        side: 'server',
        describe: `${describe} at ${host}:${port}`,
        health: () => (child.exit !== null ? `the server process has exited (${child.describeExit()}); output: ${child.excerpt(1000)}` : null),
        open: origin === null ? (kase, timeoutMs) => openServerCase(host, port, kase, timeoutMs) : (kase, timeoutMs) => openServerCaseHttp2(origin, kase, timeoutMs),
        async stop() {
          await origin?.close();
          await child.stop(0);
        },
      };
    },
  };
}

/** Driver as client: connects to a server under test and does the handshake of the case. */
export async function openServerCase(host: string, port: number, kase: Case, timeoutMs: number): Promise<OpenedCase> {
  const socket = await connectTcp(host, port, timeoutMs);
  try {
    const offer = kase.handshake?.offerExtensions;
    const hs = await clientHandshake(socket, { host, port, path: '/', ...(offer === undefined ? {} : { extensions: offer }), timeoutMs });
    const expected = kase.handshake?.expectExtensions !== undefined ? kase.handshake.expectExtensions : offer === undefined ? null : undefined;
    if (expected instanceof RegExp) {
      if (hs.extensions === null || !expected.test(hs.extensions))
        throw new Error(`handshake: Sec-WebSocket-Extensions ${JSON.stringify(hs.extensions)}, expected to match ${String(expected)}`);
    } else if (expected !== undefined) {
      const got = hs.extensions === null ? null : normaliseExtensions(hs.extensions);
      const want = expected === null ? null : normaliseExtensions(expected);
      if (got !== want) throw new Error(`handshake: Sec-WebSocket-Extensions ${JSON.stringify(hs.extensions)}, expected ${JSON.stringify(expected)}`);
    }
    // RFC 6455 §9.1, RFC 7692 §7: what the server accepted must be a valid acceptance of what was offered.
    const invalid = checkServerResponse(offer, hs.extensions);
    if (invalid.length > 0) throw new Error(`handshake: Sec-WebSocket-Extensions ${JSON.stringify(hs.extensions)} answering ${JSON.stringify(offer)}: ${invalid.join('; ')}`);
    const wire = new Wire(socket, 'client', negotiatedExtensions(hs.extensions, 'client'), hs.rest);
    return {
      wire,
      async cleanup() {
        wire.destroy();
        return { notes: [], problems: [] };
      },
    };
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

function connectTcp(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TCP connect to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(`TCP connect to ${host}:${port}: ${err.message}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------- clients

/**
 * Pause between the 101 response and the first frame sent to a client under test, so that the response and
 * the frames arrive in separate reads (cases with `framesWithResponse` test the other way on purpose).
 */
export const POST_UPGRADE_DELAY_MS = 100;

/** How a client under test is started for one case; returns a stopper that returns notes. */
export type ClientLauncher = (url: string, kase: Case) => { stop(connected: boolean): Promise<CleanupReport>; early(): string | null };

export function clientTarget(name: string, describe: string, needs: string[], launcherFactory: () => Promise<ClientLauncher>, transport: 'tcp' | 'h2' = 'tcp'): TargetDefinition {
  if (transport === 'h2') return http2ClientTarget(name, describe, needs, launcherFactory);
  return {
    name,
    side: 'client',
    describe,
    unavailable: () => {
      const missing = needs.filter((p) => !existsSync(p));
      return missing.length > 0 ? `not built: ${missing.join(', ')} missing (run npm run build / build:test)` : null;
    },
    async start() {
      const launch = await launcherFactory();
      const fuzz = new FuzzingServer();
      await fuzz.start();
      return {
        name,
        side: 'client',
        describe: `${describe} against the fuzzing server on port ${fuzz.port}`,
        health: () => null,
        async open(kase, timeoutMs) {
          const path = `/case/${kase.id}`;
          const accepted = fuzz.accept(path, timeoutMs);
          const client = launch(fuzz.urlFor(path), kase);
          const incoming = await accepted;
          if (incoming === null) {
            fuzz.cancel(path);
            const { notes } = await client.stop(false);
            throw new Error(`the client under test did not open ${path} within ${timeoutMs} ms${client.early() ?? ''}; ${notes.join('; ')}`);
          }
          const { socket, head, rest } = incoming;
          const problems = checkUpgradeRequest(head);
          const hs = kase.handshake;
          const offer = head.headers.get('sec-websocket-extensions') ?? null;
          if (hs?.expectOffer !== undefined) {
            if (hs.expectOffer === null ? offer !== null : offer === null || !hs.expectOffer.test(offer))
              problems.push(`Sec-WebSocket-Extensions offer ${JSON.stringify(offer)} does not match ${String(hs.expectOffer)}`);
          }
          problems.push(...checkClientOffer(offer));
          if (problems.length > 0) {
            socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
            setTimeout(() => socket.destroy(), 500).unref();
            const { notes } = await client.stop(true);
            throw new Error(`handshake request: ${problems.join('; ')}${notes.length ? `; ${notes.join('; ')}` : ''}`);
          }
          const response = upgradeResponse(head, hs?.answerExtensions);
          const wire = new Wire(socket, 'server', negotiatedExtensions(hs?.answerExtensions ?? null, 'server'), rest);
          if (hs?.framesWithResponse === true) {
            wire.prependToFirstWrite(response);
          } else {
            socket.write(response);
            await new Promise((r) => setTimeout(r, POST_UPGRADE_DELAY_MS));
          }
          return {
            wire,
            async cleanup() {
              const report = await client.stop(true);
              wire.destroy();
              return report;
            },
          };
        },
        async stop() {
          await fuzz.stop();
        },
      };
    },
  };
}

/** A client under test reached over HTTP/2: the fuzzing server answers each case's extended CONNECT (RFC 8441). */
function http2ClientTarget(name: string, describe: string, needs: string[], launcherFactory: () => Promise<ClientLauncher>): TargetDefinition {
  return {
    name,
    side: 'client',
    describe,
    unavailable: () => {
      const missing = needs.filter((p) => !existsSync(p));
      return missing.length > 0 ? `not built: ${missing.join(', ')} missing (run npm run build / build:test)` : null;
    },
    async start() {
      const launch = await launcherFactory();
      const fuzz = new Http2FuzzingServer(readCa(ROOT), readFileSync(fixturePath(ROOT, 'key')));
      await fuzz.start();
      return {
        name,
        side: 'client',
        describe: `${describe} against the HTTP/2 fuzzing server on port ${fuzz.port}`,
        health: () => null,
        async open(kase, timeoutMs) {
          const path = `/case/${kase.id}`;
          const accepted = fuzz.accept(path, timeoutMs);
          const client = launch(fuzz.urlFor(path), kase);
          const incoming = await accepted;
          if (incoming === null) {
            fuzz.cancel(path);
            const { notes } = await client.stop(false);
            throw new Error(`the client under test did not open ${path} within ${timeoutMs} ms${client.early() ?? ''}; ${notes.join('; ')}`);
          }
          const { stream, headers } = incoming;
          const problems = checkExtendedConnect(headers);
          const hs = kase.handshake;
          const offerValue = headers['sec-websocket-extensions'];
          const offer = typeof offerValue === 'string' ? offerValue : null;
          if (hs?.expectOffer !== undefined) {
            if (hs.expectOffer === null ? offer !== null : offer === null || !hs.expectOffer.test(offer))
              problems.push(`Sec-WebSocket-Extensions offer ${JSON.stringify(offer)} does not match ${String(hs.expectOffer)}`);
          }
          problems.push(...checkClientOffer(offer));
          if (problems.length > 0) {
            stream.respond({ ':status': 400 }, { endStream: true });
            const { notes } = await client.stop(true);
            throw new Error(`extended CONNECT: ${problems.join('; ')}${notes.length ? `; ${notes.join('; ')}` : ''}`);
          }
          stream.respond({ ':status': 200, ...(hs?.answerExtensions === undefined ? {} : { 'sec-websocket-extensions': hs.answerExtensions }) });
          const wire = new Wire(stream, 'server', negotiatedExtensions(hs?.answerExtensions ?? null, 'server'), Buffer.alloc(0));
          // HEADERS and DATA are separate HTTP/2 frames: "frames with the response" has no other form here.
          if (hs?.framesWithResponse !== true) await new Promise((r) => setTimeout(r, POST_UPGRADE_DELAY_MS));
          return {
            wire,
            async cleanup() {
              const report = await client.stop(true);
              wire.destroy();
              return report;
            },
          };
        },
        async stop() {
          await fuzz.stop();
        },
      };
    },
  };
}

/** The minimal surface of a client connection the in-process targets use (wsforge's and ws's agree on it). */
interface EchoingClient {
  on(event: 'message', cb: (data: string | Buffer, isBinary: boolean) => void): unknown;
  on(event: 'error' | 'close', cb: (...args: unknown[]) => void): unknown;
  send(data: string | Buffer, options?: { binary?: boolean }): unknown;
  terminate?(): void;
  close(code?: number): void;
}

/**
 * An in-process client. `open` returns the connected client; it calls `attach` as soon as the client object
 * exists (ws: right after construction; wsforge: when `await connect()` resolves, the documented usage), and
 * `attach` installs the echo handler.
 */
function inProcessLauncher(open: (url: string, kase: Case, attach: (c: EchoingClient) => void) => Promise<EchoingClient>): ClientLauncher {
  return (url, kase) => {
    const notes: string[] = [];
    let client: EchoingClient | null = null;
    let closeInfo: string | null = null;
    let onCloseEvent: (() => void) | null = null;
    const attach = (c: EchoingClient): void => {
      if (client !== null) return;
      client = c;
      c.on('error', (err) => {
        if (notes.length < 5) notes.push(`client error event: ${(err as Error)?.message ?? String(err)}`);
      });
      c.on('close', (code, reason) => {
        closeInfo = `client close event ${String(code)} ${JSON.stringify(String(reason ?? ''))}`;
        onCloseEvent?.();
      });
      c.on('message', (data, isBinary) => {
        try {
          c.send(data, { binary: isBinary });
        } catch (err) {
          if (notes.length < 5) notes.push(`send threw: ${(err as Error).message}`);
        }
      });
    };
    const opened = open(url, kase, attach).then(attach, (err: unknown) => {
      notes.push(`connect rejected: ${(err as Error)?.message ?? String(err)}`);
    });
    return {
      early: () => (notes.length > 0 ? ` (${notes.join('; ')})` : null),
      async stop() {
        await Promise.race([opened, new Promise((r) => setTimeout(r, 1000).unref())]);
        // Give the client a moment (20 ms at most) to see the TCP close and report its close event.
        if (closeInfo === null) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 20).unref();
            onCloseEvent = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          onCloseEvent = null;
        }
        if (closeInfo !== null) notes.push(closeInfo);
        const c = client as EchoingClient | null;
        if (c !== null) {
          try {
            if (typeof c.terminate === 'function') c.terminate();
          } catch {
            /* already closed */
          }
        }
        return { notes, problems: [] };
      },
    };
  };
}

/** A client process spawned per case with the URL appended to `args`. */
function processLauncher(args: string[]): ClientLauncher {
  return (url, kase) => {
    const child = new Child([...args.map((a) => (a === '{url}' ? url : a)), ...(kase.handshake?.clientCliArgs ?? [])]);
    return {
      early: () => (child.exit !== null ? ` (client ${child.describeExit()}: ${child.excerpt()})` : null),
      async stop(connected: boolean) {
        const byItself = await child.stop(connected ? 3000 : 0);
        const notes = [`client process ${child.describeExit()}${byItself ? '' : ' (did not exit by itself)'}`];
        if (child.out.trim() !== '') notes.push(`client output: ${JSON.stringify(child.excerpt())}`);
        const problems: string[] = [];
        // CLI contract (docs/API.md): `connect --echo` exits 0 when the server closes normally (1000), as the
        // fuzzing server does at the end of every echo case.
        if (connected && kase.outcome.kind === 'echo' && child.exit?.code !== 0)
          problems.push(`the client process did not exit 0 after the normal close (${child.describeExit()})`);
        return { notes, problems };
      },
    };
  };
}

// ---------------------------------------------------------------------------------------------- the list

export const TARGETS: TargetDefinition[] = [
  serverTarget('server', 'wsforge server (node dist/cli/main.js serve --mode echo)', [WSFORGE_CLI, 'serve', '--mode', 'echo', '--host', '127.0.0.1', '--port', '0'], [WSFORGE_CLI]),
  // The same server accepting permessage-deflate (memory-safe defaults), for the compression cases (12, 13).
  serverTarget(
    'server-deflate',
    'wsforge server with permessage-deflate (node dist/cli/main.js serve --mode echo --deflate)',
    [WSFORGE_CLI, 'serve', '--mode', 'echo', '--deflate', '--host', '127.0.0.1', '--port', '0'],
    [WSFORGE_CLI],
    'only',
  ),
  // The same server reached over HTTP/2: each case is an extended CONNECT stream (RFC 8441), categories 1-7, 9, 10.
  serverTarget(
    'server-h2',
    'wsforge server over HTTP/2 (node dist/cli/main.js serve --mode echo --tls-cert --tls-key --http2)',
    [WSFORGE_CLI, 'serve', '--mode', 'echo', '--tls-cert', fixturePath(ROOT, 'cert'), '--tls-key', fixturePath(ROOT, 'key'), '--http2', '--host', '127.0.0.1', '--port', '0'],
    [WSFORGE_CLI],
    'none',
    'h2',
  ),
  // And with permessage-deflate over HTTP/2: the compression cases (12, 13).
  serverTarget(
    'server-h2-deflate',
    'wsforge server over HTTP/2 with permessage-deflate (serve --mode echo --tls-cert --tls-key --http2 --deflate)',
    [WSFORGE_CLI, 'serve', '--mode', 'echo', '--tls-cert', fixturePath(ROOT, 'cert'), '--tls-key', fixturePath(ROOT, 'key'), '--http2', '--deflate', '--host', '127.0.0.1', '--port', '0'],
    [WSFORGE_CLI],
    'only',
    'h2',
  ),
  clientTarget('client-lib', 'wsforge client library (connect() + echo)', [WSFORGE_LIB], async () => {
    const lib = (await import(pathToFileURL(WSFORGE_LIB).href)) as {
      connect(url: string, options?: Record<string, unknown>): Promise<EchoingClient>;
    };
    if (typeof lib.connect !== 'function') throw new Error(`${WSFORGE_LIB} exports no connect()`);
    return inProcessLauncher((url, kase) => lib.connect(url, kase.handshake?.clientOptions));
  }),
  // The client library over HTTP/2: connect(url, { http2: true }), one shared HTTP/2 connection for all cases.
  clientTarget(
    'client-lib-h2',
    'wsforge client library over HTTP/2 (connect(url, { http2: true }) + echo)',
    [WSFORGE_LIB],
    async () => {
      const lib = (await import(pathToFileURL(WSFORGE_LIB).href)) as {
        connect(url: string, options?: Record<string, unknown>): Promise<EchoingClient>;
      };
      const tls = { ca: readCa(ROOT) };
      return inProcessLauncher((url, kase) => lib.connect(url, { ...kase.handshake?.clientOptions, http2: true, tls }));
    },
    'h2',
  ),
  clientTarget('client-cli', 'wsforge client CLI (node dist/cli/main.js connect URL --echo)', [WSFORGE_CLI], async () =>
    processLauncher([WSFORGE_CLI, 'connect', '{url}', '--echo']),
  ),
  // Reference peers built on the ws package, to validate the driver itself.
  serverTarget('ws-server', 'ws echo server (peers/ws-echo-server.js)', [`${PEERS}ws-echo-server.js`, '--port', '0'], [`${PEERS}ws-echo-server.js`]),
  serverTarget(
    'ws-server-deflate',
    'ws echo server with permessage-deflate (peers/ws-echo-server.js --deflate)',
    [`${PEERS}ws-echo-server.js`, '--port', '0', '--deflate'],
    [`${PEERS}ws-echo-server.js`],
    'only',
  ),
  clientTarget('ws-client-lib', 'ws client library (in process)', [], async () => {
    const { WebSocket } = await import('ws');
    return inProcessLauncher(
      (url, kase, attach) =>
        new Promise<EchoingClient>((resolve, reject) => {
          const ws = new WebSocket(url, { ...WS_LIMITS, ...kase.handshake?.clientOptions });
          attach(ws as unknown as EchoingClient);
          ws.once('open', () => resolve(ws as unknown as EchoingClient));
          ws.once('error', reject);
        }),
    );
  }),
  clientTarget('ws-client-cli', 'ws client process (peers/ws-echo-client.js)', [`${PEERS}ws-echo-client.js`], async () =>
    processLauncher([`${PEERS}ws-echo-client.js`, '{url}']),
  ),
];

export const DEFAULT_TARGETS = ['server', 'server-deflate', 'server-h2', 'server-h2-deflate', 'client-lib', 'client-cli'];
/** Every target over HTTP/2 (CONFORMANCE_TARGETS=h2); server-h2 and server-h2-deflate are default ones too. */
export const HTTP2_TARGETS = ['server-h2', 'server-h2-deflate', 'client-lib-h2'];

/**
 * Targets named in CONFORMANCE_TARGETS (comma-separated; "ws" = the ws peers, "h2" = the HTTP/2 ones, "all" = all),
 * else the default wsforge ones.
 */
export function selectTargets(spec: string | undefined): TargetDefinition[] {
  const names = (spec ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const wanted = new Set<string>();
  for (const n of names.length > 0 ? names : DEFAULT_TARGETS) {
    if (n === 'all') TARGETS.forEach((t) => wanted.add(t.name));
    else if (n === 'ws') ['ws-server', 'ws-server-deflate', 'ws-client-lib', 'ws-client-cli'].forEach((t) => wanted.add(t));
    else if (n === 'wsforge') DEFAULT_TARGETS.forEach((t) => wanted.add(t));
    else if (n === 'h2') HTTP2_TARGETS.forEach((t) => wanted.add(t));
    else wanted.add(n);
  }
  const unknown = [...wanted].filter((n) => !TARGETS.some((t) => t.name === n));
  if (unknown.length > 0) throw new Error(`unknown target(s) ${unknown.join(', ')}; known: ${TARGETS.map((t) => t.name).join(', ')}, ws, h2, wsforge, all`);
  return TARGETS.filter((t) => wanted.has(t.name));
}
