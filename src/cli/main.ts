#!/usr/bin/env node
/**
 * The wsforge command line: `wsforge serve` and `wsforge connect`. Uses the public API only.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { createInterface } from 'node:readline';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { connect, ReadyState, WebSocketError, WebSocketServer, type ConnectOptions, type WebSocket } from '../index.js';
import { runReconnecting } from './connect-reconnecting.js';
import { integerInRange, MAX_TIMER_MS } from './integer-flag.js';
import { demoPage } from './demo-page.js';
import { formatReceivedMessage } from './received-message.js';
import type { CommandServer, ScalingOptions, ServerStart } from './serve-scaling.js';

/** Broadcast mode's topic: every client subscribes to it. */
const BROADCAST_TOPIC = 'broadcast';

const MAIN_HELP = `wsforge: a strict, fast WebSocket server and client

Usage:
  wsforge serve [options]          start a WebSocket server (echo or broadcast) with a demo page
  wsforge connect <url> [options]  connect to a WebSocket server from the terminal

Run "wsforge <command> --help" for the options of a command.
`;

const SERVE_HELP = `Usage: wsforge serve [options]

Start a WebSocket server. The page at / connects back, sends what you type and shows what arrives.

Options:
  --host <host>        address to listen on (default 127.0.0.1)
  --port <port>        port to listen on, 0 for any free port (default 8080)
  --mode <mode>        echo: reply to each message with the same bytes and type (default)
                       broadcast: send every message to every connected client
  --tls-cert <file>    PEM certificate: serve wss:// and https:// (needs --tls-key)
  --tls-key <file>     PEM private key
  --http2              also serve HTTP/2 (needs --tls-cert): the page and WebSockets as HTTP/2
                       streams (RFC 8441) for browsers that use them; HTTP/1.1 keeps working
  --max-payload <n>    largest message in bytes (default 16 MiB)
  --deflate            accept permessage-deflate (RFC 7692) with the memory-safe defaults
  --workers <n>        serve the port from n processes (auto: one per CPU; default 1); in
                       broadcast mode a message reaches the clients of every worker
  --redis <url>        share broadcasts through Redis with every server attached to it
                       (redis://host:port; needs the redis package)
  --quiet              do not log connections and closes
  --verbose            also log every message
  -h, --help           show this help

Prints "listening on ws://HOST:PORT" once ready. SIGINT or SIGTERM closes every client with 1001
and exits.
`;

const CONNECT_HELP = `Usage: wsforge connect <url> [options]

Connect to a WebSocket server. Each line read from stdin is sent as a message; each message
received is printed on stdout (text as is, binary as "[binary N bytes] <hex>").

Options:
  -H, --header <"Name: value">   add a request header (repeatable)
  --subprotocol <p>              offer a subprotocol (repeatable)
  --binary                       send stdin lines as binary messages
  --echo                         send every received message straight back (same type); stdin is
                                 not read and messages are not printed
  --timeout <ms>                 handshake timeout (default 10000)
  --insecure                     accept any TLS certificate (wss:// to a self-signed server)
  --deflate                      offer permessage-deflate (RFC 7692)
  --http2                        open the WebSocket as an HTTP/2 stream (RFC 8441; wss:// only)
  --reconnect                    reconnect after a drop or a failed attempt, with backoff (1 s
                                 doubling to 30 s, with jitter); lines typed meanwhile are sent
                                 once connected; exits 0 when stdin ends, 1 if it gives up
  -h, --help                     show this help

Exit status: 0 when the connection closes normally (1000 or 1001), 1 when it fails or closes with
another code, 2 for bad arguments.
`;

class UsageError extends Error {}

/** A numeric flag's value, or a UsageError saying the range: one line, exit status 2. */
function integerFlag(text: string, flag: string, min: number, max: number, unit: string): number {
  const value = integerInRange(text, min, max);
  if (value === undefined) throw new UsageError(`${flag} must be an integer from ${min} to ${max} (${unit}), got "${text}"`);
  return value;
}

function fail(message: string, status: number): never {
  process.stderr.write(`wsforge: ${message}\n`);
  process.exit(status);
}

function parse<const O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs explains some errors over several lines; the CLI reports one.
    throw new UsageError((error as Error).message.split('\n')[0]!);
  }
}

async function serve(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8080' },
    mode: { type: 'string', default: 'echo' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    http2: { type: 'boolean', default: false },
    'max-payload': { type: 'string' },
    deflate: { type: 'boolean', default: false },
    workers: { type: 'string' },
    redis: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const mode = values.mode as string;
  if (mode !== 'echo' && mode !== 'broadcast') throw new UsageError(`--mode must be echo or broadcast, got "${mode}"`);
  const port = integerFlag(values.port as string, '--port', 0, 65535, '0 for any free port');
  const certFile = values['tls-cert'] as string | undefined;
  const keyFile = values['tls-key'] as string | undefined;
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const http2 = values.http2 as boolean;
  if (http2 && certFile === undefined) throw new UsageError('--http2 needs --tls-cert and --tls-key (browsers speak HTTP/2 over TLS only)');
  const maxPayloadText = values['max-payload'] as string | undefined;
  const maxPayload = maxPayloadText === undefined ? undefined : integerFlag(maxPayloadText, '--max-payload', 1, Number.MAX_SAFE_INTEGER, 'bytes');
  // Loaded here, not at start: `wsforge connect` does not pay for wsforge/cluster and wsforge/redis.
  const { scalingOptions, serveScaled } = await import('./serve-scaling.js');
  let scaling: ScalingOptions;
  try {
    scaling = scalingOptions(values.workers as string | undefined, values.redis as string | undefined);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const quiet = values.quiet as boolean;
  const verbose = values.verbose as boolean;
  const log = (line: string) => {
    if (!quiet) process.stdout.write(`${line}\n`);
  };

  const page = demoPage(mode);
  const onRequest = (request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    if ((request.method === 'GET' || request.method === 'HEAD') && (path === '/' || path === '/index.html')) {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      if (request.method === 'HEAD') response.end();
      else response.end(page);
      return;
    }
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end('not found\n');
  };
  let tls: { cert: Buffer; key: Buffer } | undefined;
  if (certFile !== undefined && keyFile !== undefined) {
    try {
      tls = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
    } catch (error) {
      fail(`cannot read TLS files: ${(error as Error).message}`, 1);
    }
  }
  // With --http2, ALPN picks HTTP/2 or HTTP/1.1 per connection; HTTP/2 connections advertise
  // SETTINGS_ENABLE_CONNECT_PROTOCOL so that browsers open their WebSockets as streams (RFC 8441).
  // node:http2 refuses new streams while a connection's queued data passes maxSessionMemory (MB):
  // leave room for two largest messages (README "HTTP/2").
  const maxSessionMemory = 10 + 2 * Math.ceil((maxPayload ?? 16 * 1024 * 1024) / (1024 * 1024));
  // Loaded only for --http2: every `connect` process would pay for it otherwise.
  const http2Module = tls && http2 ? await import('node:http2') : null;
  // Broadcast mode is a topic every client subscribes to: with --workers or --redis the other
  // processes' publishes reach it too.
  const startOne = async ({ listen, pubsub, worker }: ServerStart): Promise<CommandServer> => {
    const httpServer =
      tls && http2Module !== null
        ? http2Module.createSecureServer({ ...tls, allowHTTP1: true, maxSessionMemory, settings: { enableConnectProtocol: true } }, onRequest)
        : tls
          ? createHttpsServer(tls, onRequest)
          : createHttpServer(onRequest);
    let nextId = 1;
    // Server-wide handlers: the connection's number is its application data (ws.data).
    const wss = new WebSocketServer({
      ...(maxPayload === undefined ? {} : { maxPayload }),
      ...(pubsub === undefined ? {} : { pubsub }),
      perMessageDeflate: values.deflate as boolean,
      handlers: {
        open(ws, request) {
          ws.data = worker === undefined ? nextId++ : `${worker}.${nextId++}`;
          if (mode === 'broadcast') ws.subscribe(BROADCAST_TOPIC);
          const transport = request.transport === 'h2' ? 'h2' : 'h1';
          log(`connection ${ws.data} from ${request.remoteAddress ?? '?'} path ${request.path} over ${transport}${ws.extensions ? ` extensions ${ws.extensions}` : ''}`);
        },
        message(ws, data, isBinary) {
          if (verbose) log(`message ${ws.data} ${isBinary ? 'binary' : 'text'} ${data.length}${isBinary ? ' bytes' : ' chars'}`);
          if (mode === 'echo') ws.send(data);
          else wss.publish(BROADCAST_TOPIC, data, { binary: isBinary });
        },
        close(ws, code, reason) {
          log(`close ${ws.data} ${code} ${JSON.stringify(reason)}`);
        },
      },
    });
    wss.attach(httpServer);
    wss.on('rejected', (status, reason) => {
      if (verbose) log(`rejected ${status} ${reason}`);
    });
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      // exclusive with reusePort: the worker binds its own socket (wsforge/cluster, Node >= 22.12).
      httpServer.listen({ ...listen, ...(listen.reusePort ? { exclusive: true } : {}) }, () => {
        httpServer.off('error', reject);
        resolve();
      });
    }).catch((error: NodeJS.ErrnoException) => {
      fail(`cannot listen on ${String(values.host)}:${port}: ${error.code ?? error.message}`, 1);
    });
    return {
      address: () => httpServer.address(),
      async close() {
        log(`closing ${wss.clients.size} connection(s) with 1001`);
        httpServer.close();
        // HTTP/1.1 connections (an HTTP/2 server has no such call; process.exit ends its sessions).
        (httpServer as { closeAllConnections?: () => void }).closeAllConnections?.();
        await wss.close();
      },
    };
  };
  await serveScaled(scaling, { host: values.host as string, port, scheme: tls ? 'wss' : 'ws' }, startOne, log);
}

async function connectCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    header: { type: 'string', short: 'H', multiple: true },
    subprotocol: { type: 'string', multiple: true },
    binary: { type: 'boolean', default: false },
    echo: { type: 'boolean', default: false },
    timeout: { type: 'string' },
    insecure: { type: 'boolean', default: false },
    deflate: { type: 'boolean', default: false },
    http2: { type: 'boolean', default: false },
    reconnect: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    process.stdout.write(CONNECT_HELP);
    return;
  }
  if (positionals.length !== 1) throw new UsageError('connect needs exactly one URL (ws://host:port/path)');
  const headers: Record<string, string[]> = {};
  for (const header of (values.header as string[] | undefined) ?? []) {
    const colon = header.indexOf(':');
    if (colon <= 0) throw new UsageError(`-H expects "Name: value", got "${header}"`);
    const name = header.slice(0, colon).trim();
    (headers[name] ??= []).push(header.slice(colon + 1).trim());
  }
  const options: ConnectOptions = { headers };
  const protocols = values.subprotocol as string[] | undefined;
  if (protocols !== undefined) options.protocols = protocols;
  if (values.timeout !== undefined) options.handshakeTimeout = integerFlag(values.timeout as string, '--timeout', 1, MAX_TIMER_MS, 'ms');
  if (values.insecure) options.tls = { rejectUnauthorized: false };
  if (values.deflate) options.perMessageDeflate = true;
  if (values.http2) options.http2 = true;
  if (values.reconnect) {
    runReconnecting(positionals[0]!, options, { echo: values.echo as boolean, binary: values.binary as boolean, verbose: values.verbose as boolean }, fail);
    return;
  }
  // Echo mode relays whatever the peer sends, so allow what the server side allows by default.
  let ws: WebSocket;
  try {
    ws = await connect(positionals[0]!, options);
  } catch (error) {
    const err = error as WebSocketError;
    fail(err.code === 'WSF_ERR_INVALID_URL' ? err.message : `${err.message}`, err.code === 'WSF_ERR_INVALID_URL' ? 2 : 1);
  }
  const echo = values.echo as boolean;
  const verbose = values.verbose as boolean;
  const binary = values.binary as boolean;
  ws.on('message', (data, isBinary) => {
    if (echo) {
      ws.send(data);
      if (!verbose) return;
    }
    process.stdout.write(formatReceivedMessage(data, isBinary));
  });
  ws.on('close', (code, reason) => {
    const normal = code === 1000 || code === 1001;
    process.stderr.write(`closed: ${code}${reason ? ` ${JSON.stringify(reason)}` : ''}\n`);
    process.exit(normal ? 0 : 1);
  });
  if (!echo) {
    const lines = createInterface({ input: process.stdin, terminal: false });
    lines.on('line', (line) => {
      if (ws.readyState !== ReadyState.OPEN) return;
      ws.send(binary ? Buffer.from(line, 'utf8') : line);
    });
    lines.on('close', () => {
      if (ws.readyState === ReadyState.OPEN) ws.close(1000);
    });
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    if (command === 'serve') await serve(rest);
    else if (command === 'connect') await connectCommand(rest);
    else if (command === undefined || command === '--help' || command === '-h' || command === 'help') process.stdout.write(MAIN_HELP);
    else throw new UsageError(`unknown command "${command}" (try: wsforge --help)`);
  } catch (error) {
    if (error instanceof UsageError) fail(`${error.message} (see --help)`, 2);
    fail((error as Error).message, 1);
  }
}

void main(process.argv.slice(2));
