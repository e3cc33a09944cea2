/**
 * The server under attack, run in its own process so the test can read its memory from outside
 * (/proc/<pid>/status) and its event loop is its own. Written against the public API only.
 *
 *   node attack-server.js --mode echo|broadcast [--entry listen|attach] [--options JSON]
 *                         [--throw-on TEXT] [--listeners]
 *
 * - echo: every message goes back with the same bytes and type; broadcast: every message goes to
 *   every client (`wss.broadcast`), as `wsforge serve --mode broadcast` does.
 * - `--options` is passed to `new WebSocketServer()` as is (JSON), so a test names the limits it
 *   proves, and the script runs unchanged on code that does not know an option yet (the test then
 *   fails on behaviour, not on compilation).
 * - `--throw-on TEXT`: the message code throws for a text message equal to TEXT (user code failing).
 * - `--listeners`: per-connection listeners (`ws.on('message')`) instead of server-wide `handlers`.
 *
 * Prints `listening on ws://127.0.0.1:PORT` once ready. On the stdin line `stats ID` it prints one line
 * `STATS ID {json}` (see ServerStats in ../server-under-attack.ts). SIGTERM, or the end of stdin, exits.
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { type ServerOptions, type WebSocket, WebSocketServer } from '../../../src/index.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'echo' },
    entry: { type: 'string', default: 'listen' },
    options: { type: 'string', default: '{}' },
    'throw-on': { type: 'string' },
    listeners: { type: 'boolean', default: false },
  },
});
const mode = values.mode;
if (mode !== 'echo' && mode !== 'broadcast') throw new Error(`unknown --mode ${String(mode)}`);
const entry = values.entry;
if (entry !== 'listen' && entry !== 'attach') throw new Error(`unknown --entry ${String(entry)}`);
const throwOn = values['throw-on'];

/** What the test reads with `stats`: what happened to connections, from the server's side. */
const stats = {
  opened: 0,
  closed: 0,
  /** close code (as the 'close' event / handler reports it) -> connections */
  closeCodes: {} as Record<string, number>,
  /** WebSocketError code -> errors reported through the error handler or 'error' listeners */
  errorCodes: {} as Record<string, number>,
  messages: 0,
  /** errors thrown on purpose by the message code (--throw-on) */
  thrown: 0,
  /** of those, how many reached the application again (error handler, 'error', or the process) */
  thrownReported: 0,
  /** uncaught exceptions that were not one of ours */
  otherUncaught: [] as string[],
  /** HTTP status -> handshakes the server refused with it (its 'rejected' event: the answer is written next). */
  rejected: {} as Record<string, number>,
  /** The first ten connections opened (a test's good clients, opened before its attack) that closed: order opened, close code, error. */
  firstTenClosed: [] as Array<{ opened: number; code: number; error: string | null }>,
};

/** The order in which connections opened (1 for the first), and the error code each reported. */
const openedAs = new WeakMap<WebSocket, { opened: number; error: string | null }>();

/** The errors this script threw on purpose, until they are reported back. */
const thrownErrors = new Set<Error>();

/** Whether `error` is (or wraps, as its cause) an error this script threw; counts it once. */
function noteIfThrownByUs(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (thrownErrors.delete(e)) {
      stats.thrownReported++;
      return true;
    }
  }
  return false;
}

process.on('uncaughtException', (error) => {
  // A server keeps running after an application bug; the test asserts what happened to it.
  if (!noteIfThrownByUs(error)) stats.otherUncaught.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
});

function onMessage(ws: WebSocket, data: string | Buffer, isBinary: boolean): void {
  stats.messages++;
  if (throwOn !== undefined && !isBinary && data === throwOn) {
    const error = new Error(`the application failed on "${throwOn}"`);
    thrownErrors.add(error);
    stats.thrown++;
    throw error;
  }
  if (mode === 'echo') ws.send(data, { binary: isBinary });
  else wss.broadcast(data, { binary: isBinary });
}

function onClose(ws: WebSocket, code: number): void {
  const seen = openedAs.get(ws);
  if (seen !== undefined && seen.opened <= 10) stats.firstTenClosed.push({ opened: seen.opened, code, error: seen.error });
  stats.closed++;
  stats.closeCodes[code] = (stats.closeCodes[code] ?? 0) + 1;
}

function onOpen(ws: WebSocket): void {
  stats.opened++;
  openedAs.set(ws, { opened: stats.opened, error: null });
}

function onError(ws: WebSocket | null, error: Error & { code?: string }): void {
  if (noteIfThrownByUs(error)) return;
  const code = error.code ?? error.name;
  const seen = ws === null ? undefined : openedAs.get(ws);
  if (seen !== undefined) seen.error = code;
  stats.errorCodes[code] = (stats.errorCodes[code] ?? 0) + 1;
}

const options = JSON.parse(values.options) as ServerOptions;
const wss = new WebSocketServer({
  ...options,
  ...(values.listeners
    ? {}
    : {
        handlers: {
          open: onOpen,
          message: onMessage,
          close: onClose,
          error: onError,
        },
      }),
});
if (values.listeners) {
  wss.on('connection', (ws) => {
    onOpen(ws);
    ws.on('message', (data, isBinary) => onMessage(ws, data, isBinary));
    ws.on('close', (code) => onClose(ws, code));
    ws.on('error', (error) => onError(ws, error));
  });
}
wss.on('error', (error) => onError(null, error));
wss.on('rejected', (status: number) => {
  stats.rejected[status] = (stats.rejected[status] ?? 0) + 1;
});

let port: number;
if (entry === 'listen') {
  port = (await wss.listen({ port: 0, host: '127.0.0.1' })).port;
} else {
  const http = createHttpServer((_request, response) => {
    response.writeHead(404, { 'Content-Type': 'text/plain' });
    response.end('not found\n');
  });
  wss.attach(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  port = (http.address() as AddressInfo).port;
}

const commands = createInterface({ input: process.stdin });
commands.on('line', (line) => {
  const [command, id] = line.trim().split(' ');
  if (command === 'stats') {
    const { heapUsed, external, arrayBuffers } = process.memoryUsage();
    const memory = { heapUsedMiB: toMiB(heapUsed), externalMiB: toMiB(external), arrayBuffersMiB: toMiB(arrayBuffers) };
    process.stdout.write(`STATS ${id ?? '0'} ${JSON.stringify({ ...stats, clients: wss.clients.size, memory })}\n`);
  }
});
// The test process is gone: do not outlive it.
commands.on('close', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.stdout.write(`listening on ws://127.0.0.1:${port}\n`);

function toMiB(bytes: number): number {
  return Math.round(bytes / 10485.76) / 100;
}
