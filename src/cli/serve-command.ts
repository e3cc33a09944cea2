/**
 * `wsforge serve`: an echo or broadcast WebSocket server with a demo page, optionally serving a
 * directory of files beside the WebSocket endpoint. Uses the public API only.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { WebSocketServer } from '../index.js';
import { ClientCountStream } from './client-count-stream.js';
import { EXIT_FAILURE, exitWithError, integerFlag, parseCommandLine, subprotocolFlags, UsageError } from './command-line.js';
import { demoPage } from './demo-page.js';
import type { HttpRequest, HttpResponse } from './http-exchange.js';
import { LogWriter } from './log-writer.js';
import { StaticFiles } from './static-files.js';
import type { CommandServer, ScalingOptions, ServerStart } from './serve-scaling.js';
import { packageVersion } from './version.js';

export const SERVE_HELP = `Usage: wsforge serve [options]

Start a WebSocket server. Every path accepts WebSocket upgrades; the demo page at / connects back,
sends what you type and shows what arrives.

Options:
  --host <host>        address to listen on (default 127.0.0.1)
  --port <port>        port to listen on, 0 for any free port (default 8080)
  --mode <mode>        echo: reply to each message with the same bytes and type (default)
                       broadcast: send every message to every connected client
  --static <dir>       serve the files under <dir> for GET and HEAD (index.html for directories,
                       no listings, no dotfiles, nothing outside <dir>); <dir>/index.html, if
                       present, takes / and the demo page stays at /_wsforge/
  --subprotocol <p>    accept subprotocol <p> when a client offers it (repeatable, in order of
                       preference)
  --tls-cert <file>    PEM certificate: serve wss:// and https:// (needs --tls-key)
  --tls-key <file>     PEM private key
  --http2              also serve HTTP/2 (needs --tls-cert): the page and WebSockets as HTTP/2
                       streams (RFC 8441) for browsers that use them; HTTP/1.1 keeps working
  --max-payload <n>    largest message in bytes (default 16 MiB)
  --deflate            accept permessage-deflate (RFC 7692) with the memory-safe defaults
  --workers <n>        serve the port from n processes (auto: one per CPU; default 1); in
                       broadcast mode a message reaches the clients of every worker (the page's
                       client count is its worker's)
  --redis <url>        share broadcasts through Redis with every server attached to it
                       (redis://host:port; needs the redis package)
  --quiet              do not log connections and closes
  --verbose            also log every message and every refused handshake
  --version            print the version
  -h, --help           show this help

Prints "listening on ws://HOST:PORT" once ready, then one line per connection and per close
(written in batches, at most 50 ms late). SIGINT or SIGTERM closes every client with 1001 and
exits 0.

Paths: /_wsforge/ is always the demo page, /_wsforge/clients the number of connected clients as
server-sent events (the page shows it).
`;

/** Broadcast mode's topic: every client subscribes to it. */
const BROADCAST_TOPIC = 'broadcast';

/** Paths of the demo page and its client count; never taken by --static files. */
const DEMO_PATH = '/_wsforge/';
const CLIENTS_PATH = '/_wsforge/clients';

export async function serveCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseCommandLine(args, {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8080' },
    mode: { type: 'string', default: 'echo' },
    static: { type: 'string' },
    subprotocol: { type: 'string', multiple: true },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    http2: { type: 'boolean', default: false },
    'max-payload': { type: 'string' },
    deflate: { type: 'boolean', default: false },
    workers: { type: 'string' },
    redis: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    version: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return;
  }
  if (values.version) {
    process.stdout.write(`wsforge ${packageVersion()}\n`);
    return;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const mode = values.mode;
  if (mode !== 'echo' && mode !== 'broadcast') throw new UsageError(`--mode must be echo or broadcast, got "${mode}"`);
  const port = integerFlag(values.port, '--port', 0, 65535, '0 for any free port');
  const certFile = values['tls-cert'];
  const keyFile = values['tls-key'];
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const http2 = values.http2;
  if (http2 && certFile === undefined) throw new UsageError('--http2 needs --tls-cert and --tls-key (browsers speak HTTP/2 over TLS only)');
  const maxPayloadText = values['max-payload'];
  const maxPayload = maxPayloadText === undefined ? undefined : integerFlag(maxPayloadText, '--max-payload', 1, Number.MAX_SAFE_INTEGER, 'bytes');
  // Loaded here, not at start: `wsforge connect` does not pay for wsforge/cluster and wsforge/redis.
  const { scalingOptions, serveScaled } = await import('./serve-scaling.js');
  let scaling: ScalingOptions;
  try {
    scaling = scalingOptions(values.workers, values.redis);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const protocols = subprotocolFlags(values.subprotocol);
  const verbose = values.verbose;
  const log = values.quiet ? null : new LogWriter(process.stdout);

  let files: StaticFiles | null = null;
  if (values.static !== undefined) {
    try {
      files = await StaticFiles.open(values.static);
    } catch (error) {
      exitWithError((error as Error).message, EXIT_FAILURE);
    }
  }
  let tls: { cert: Buffer; key: Buffer } | undefined;
  if (certFile !== undefined && keyFile !== undefined) {
    try {
      tls = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
    } catch (error) {
      exitWithError(`cannot read TLS files: ${(error as Error).message}`, EXIT_FAILURE);
    }
  }

  const page = demoPage({ mode, protocols });
  const clientCount = new ClientCountStream();
  const onRequest = (request: HttpRequest, response: HttpResponse): void => {
    const target = request.url ?? '/';
    const query = target.indexOf('?');
    const path = query === -1 ? target : target.slice(0, query);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('only GET and HEAD (and WebSocket upgrades)\n');
      return;
    }
    if (path === DEMO_PATH) return sendPage(request, response, page);
    if (path === CLIENTS_PATH) return clientCount.subscribe(request, response);
    const isRoot = path === '/' || path === '/index.html';
    if (files === null || path.startsWith(DEMO_PATH)) {
      if (isRoot) sendPage(request, response, page);
      else notFound(response);
      return;
    }
    files.respond(request, response, path).then(
      (answered) => {
        if (answered) return;
        // DIR has no index.html: the demo page keeps /.
        if (isRoot) sendPage(request, response, page);
        else notFound(response);
      },
      () => {
        if (!response.headersSent) {
          response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
          response.end('cannot read the file\n');
        } else response.destroy();
      },
    );
  };
  // With --http2, ALPN picks HTTP/2 or HTTP/1.1 per connection; HTTP/2 connections advertise
  // SETTINGS_ENABLE_CONNECT_PROTOCOL so that browsers open their WebSockets as streams (RFC 8441).
  // node:http2 refuses new streams while a connection's queued data passes maxSessionMemory (MB):
  // leave room for two largest messages (README "HTTP/2").
  const maxSessionMemory = 10 + 2 * Math.ceil((maxPayload ?? 16 * 1024 * 1024) / (1024 * 1024));
  // Loaded only for --http2: every `connect` process would pay for it otherwise.
  const http2Module = tls && http2 ? await import('node:http2') : null;
  const logLine = (line: string): void => log?.line(line);
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
      ...(protocols.length > 0 ? { protocols } : {}),
      ...(pubsub === undefined ? {} : { pubsub }),
      perMessageDeflate: values.deflate,
      handlers: {
        open(ws, request) {
          ws.data = worker === undefined ? nextId++ : `${worker}.${nextId++}`;
          if (mode === 'broadcast') ws.subscribe(BROADCAST_TOPIC);
          clientCount.update(wss.clients.size);
          if (log === null) return;
          // Built only when logging: --quiet pays for no string and no peer address lookup.
          const transport = request.transport === 'h2' ? 'h2' : 'h1';
          const extras = `${ws.protocol ? ` protocol ${ws.protocol}` : ''}${ws.extensions ? ` extensions ${ws.extensions}` : ''}`;
          log.line(`connection ${String(ws.data)} from ${request.remoteAddress ?? '?'} path ${request.path} over ${transport}${extras}`);
        },
        message(ws, data, isBinary) {
          if (verbose && log !== null) log.line(`message ${String(ws.data)} ${isBinary ? 'binary' : 'text'} ${data.length}${isBinary ? ' bytes' : ' chars'}`);
          if (mode === 'echo') ws.send(data);
          else wss.publish(BROADCAST_TOPIC, data, { binary: isBinary });
        },
        close(ws, code, reason) {
          clientCount.update(wss.clients.size);
          log?.line(`close ${String(ws.data)} ${code} ${JSON.stringify(reason)}`);
        },
      },
    });
    wss.attach(httpServer);
    if (verbose && log !== null) wss.on('rejected', (status, reason) => log.line(`rejected ${status} ${reason}`));
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      // exclusive with reusePort: the worker binds its own socket (wsforge/cluster, Node >= 22.12).
      httpServer.listen({ ...listen, ...(listen.reusePort ? { exclusive: true } : {}) }, () => {
        httpServer.off('error', reject);
        resolve();
      });
    }).catch((error: NodeJS.ErrnoException) => {
      exitWithError(`cannot listen on ${values.host}:${port}: ${error.code ?? error.message}`, EXIT_FAILURE);
    });
    if (files !== null && worker === undefined) log?.line(`serving files from ${files.root}`);
    return {
      address: () => httpServer.address(),
      async close() {
        log?.line(`closing ${wss.clients.size} connection(s) with 1001`);
        httpServer.close();
        // HTTP/1.1 connections (an HTTP/2 server has no such call; process.exit ends its sessions).
        (httpServer as { closeAllConnections?: () => void }).closeAllConnections?.();
        await wss.close();
        await log?.flushed();
      },
    };
  };
  // Lines still batched when a process ends (a cluster primary's, a failure) are written too.
  if (log !== null) process.on('exit', () => log.flush());
  await serveScaled(scaling, { host: values.host, port, scheme: tls ? 'wss' : 'ws' }, startOne, logLine);
}

function sendPage(request: HttpRequest, response: HttpResponse, page: string): void {
  response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  if (request.method === 'HEAD') response.end();
  else response.end(page);
}

function notFound(response: HttpResponse): void {
  response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end('not found\n');
}
