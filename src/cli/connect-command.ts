/**
 * `wsforge connect`: a WebSocket client for the terminal, as wscat and websocat users expect it:
 * stdin lines become messages, messages become stdout lines, stdin EOF and Ctrl-C close the
 * connection with 1000 and wait for the closing handshake. Uses the public API only.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { connect, ReadyState, type ConnectOptions, type WebSocket, type WebSocketError } from '../index.js';
import { EXIT_FAILURE, EXIT_USAGE, exitWithError, integerFlag, parseCommandLine, subprotocolFlags, UsageError } from './command-line.js';
import { runReconnecting } from './connect-reconnecting.js';
import { MAX_TIMER_MS } from './integer-flag.js';
import { formatReceivedMessage } from './received-message.js';
import { packageVersion } from './version.js';

export const CONNECT_HELP = `Usage: wsforge connect <url> [options]

Connect to a WebSocket server. Each line read from stdin is sent as a message; each message
received is printed on stdout (text as is, binary as "[binary N bytes] <hex>"). When stdin ends
(EOF, Ctrl-D) or on Ctrl-C (SIGINT), the connection is closed with 1000, and messages still on
their way are printed until the server has answered the close. Ctrl-C while the connection
is already closing exits at once (status 130).

Options:
  -H, --header <"Name: value">   add a request header (repeatable)
  --subprotocol <p>              offer a subprotocol (repeatable)
  --origin <origin>              send this Origin header, as a browser would
  --binary                       send stdin lines as binary messages
  --json                         pretty-print text messages that are JSON objects or arrays
  --echo                         send every received message straight back (same type); stdin is
                                 not read and messages are not printed
  -v, --verbose                  print the request and response heads and the negotiated
                                 subprotocol and extensions on stderr (with --echo, also print
                                 the messages)
  --ping-interval <s>            send a ping after <s> seconds without data from the server; a
                                 server silent as long again after it is dropped (default 20,
                                 0: no pings)
  --timeout <ms>                 handshake timeout (default 10000)
  --max-payload <n>              largest message accepted, in bytes (default 16 MiB); a bigger
                                 one closes the connection with 1009
  --ca <file>                    trust the PEM certificate(s) in <file> for wss:// (a private CA
                                 or a self-signed server), in place of the system's list
  --insecure                     accept any TLS certificate (wss:// to a self-signed server)
  --deflate                      offer permessage-deflate (RFC 7692)
  --http2                        open the WebSocket as an HTTP/2 stream (RFC 8441; wss:// only)
  --reconnect                    reconnect after a drop or a failed attempt, with backoff (1 s
                                 doubling to 30 s, with jitter); lines typed meanwhile are sent
                                 once connected; exits 0 when stdin ends, 1 if it gives up
  --version                      print the version
  -h, --help                     show this help

Exit status: 0 when the connection closes normally (1000 or 1001, also after EOF or Ctrl-C),
1 when it fails or closes with another code, 2 for bad arguments, 130 after Ctrl-C while closing.
Errors are one line on stderr.
`;

/** Exit status after a second Ctrl-C (128 + SIGINT), as shells report an interrupted command. */
const EXIT_INTERRUPTED = 130;

export async function connectCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseCommandLine(args, {
    header: { type: 'string', short: 'H', multiple: true },
    subprotocol: { type: 'string', multiple: true },
    origin: { type: 'string' },
    binary: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    echo: { type: 'boolean', default: false },
    timeout: { type: 'string' },
    'ping-interval': { type: 'string' },
    'max-payload': { type: 'string' },
    ca: { type: 'string' },
    insecure: { type: 'boolean', default: false },
    deflate: { type: 'boolean', default: false },
    http2: { type: 'boolean', default: false },
    reconnect: { type: 'boolean', default: false },
    verbose: { type: 'boolean', short: 'v', default: false },
    version: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    process.stdout.write(CONNECT_HELP);
    return;
  }
  if (values.version) {
    process.stdout.write(`wsforge ${packageVersion()}\n`);
    return;
  }
  const url = positionals[0];
  if (url === undefined || positionals.length !== 1) throw new UsageError('connect needs exactly one URL (ws://host:port/path)');
  const headers: Record<string, string[]> = {};
  for (const header of values.header ?? []) {
    const colon = header.indexOf(':');
    if (colon <= 0) throw new UsageError(`-H expects "Name: value", got "${header}"`);
    const name = header.slice(0, colon).trim();
    (headers[name] ??= []).push(header.slice(colon + 1).trim());
  }
  // Messages that were on their way when we closed are still printed (RFC 6455 §1.4).
  const options: ConnectOptions = { headers, receiveAfterClose: true };
  if (values.subprotocol !== undefined) options.protocols = subprotocolFlags(values.subprotocol);
  if (values.origin !== undefined) options.origin = values.origin;
  if (values.timeout !== undefined) options.handshakeTimeout = integerFlag(values.timeout, '--timeout', 1, MAX_TIMER_MS, 'ms');
  if (values['ping-interval'] !== undefined) {
    const text = values['ping-interval'];
    // Decimal seconds only (as the integer flags: no "", "0x10" or "1e3"), within a timer's range.
    const seconds = /^\d{1,10}(\.\d{1,3})?$/.test(text) ? Number(text) : Number.NaN;
    if (!(seconds * 1000 <= MAX_TIMER_MS)) throw new UsageError(`--ping-interval must be a number of seconds >= 0, got "${text}"`);
    // Keepalive (core): a ping after this much silence, and as long again for the answer.
    options.pingInterval = Math.round(seconds * 1000);
    if (seconds > 0) options.pingTimeout = Math.round(seconds * 1000);
  }
  if (values['max-payload'] !== undefined) options.maxPayload = integerFlag(values['max-payload'], '--max-payload', 1, Number.MAX_SAFE_INTEGER, 'bytes');
  if (values.ca !== undefined || values.insecure) {
    options.tls = {};
    if (values.insecure) options.tls.rejectUnauthorized = false;
    if (values.ca !== undefined) {
      try {
        options.tls.ca = readFileSync(values.ca);
      } catch (error) {
        exitWithError(`--ca ${values.ca}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, EXIT_FAILURE);
      }
    }
  }
  if (values.deflate) options.perMessageDeflate = true;
  if (values.http2) options.http2 = true;
  if (values.reconnect) {
    runReconnecting(url, options, { echo: values.echo, binary: values.binary, verbose: values.verbose, json: values.json }, exitWithError);
    return;
  }

  let ws: WebSocket;
  try {
    ws = await connect(url, options);
  } catch (error) {
    const err = error as WebSocketError;
    if (err.code === 'WSF_ERR_INVALID_URL') exitWithError(err.message, EXIT_USAGE);
    exitWithError(explainConnectFailure(err, url), EXIT_FAILURE);
  }

  const echo = values.echo;
  const verbose = values.verbose;
  if (verbose) process.stderr.write(describeHandshake(ws));
  const binary = values.binary;
  const json = values.json;
  ws.on('message', (data, isBinary) => {
    if (echo) {
      // Nothing may be sent after our close frame (RFC 6455 §5.5.1).
      if (ws.readyState === ReadyState.OPEN) ws.send(data);
      if (!verbose) return;
    }
    process.stdout.write(formatReceivedMessage(data, isBinary, { json }));
  });

  let lines: ReturnType<typeof createInterface> | null = null;
  const closeNormally = (): void => {
    if (ws.readyState === ReadyState.OPEN) ws.close(1000);
  };
  let interrupted = false;
  const onInterrupt = (): void => {
    if (interrupted || ws.readyState !== ReadyState.OPEN) process.exit(EXIT_INTERRUPTED);
    interrupted = true;
    closeNormally();
  };
  process.on('SIGINT', onInterrupt);

  ws.on('close', (code, reason) => {
    process.stderr.write(`closed: ${code}${reason ? ` ${JSON.stringify(reason)}` : ''}\n`);
    process.exitCode = code === 1000 || code === 1001 ? 0 : EXIT_FAILURE;
    // Let stdout drain (a pipe may still hold the last messages), then end: nothing else is
    // left to keep the process alive once stdin is released.
    process.off('SIGINT', onInterrupt);
    lines?.close();
    process.stdin.destroy();
    setTimeout(() => process.exit(), 2000).unref();
  });

  if (!echo) {
    lines = createInterface({ input: process.stdin, terminal: false });
    lines.on('line', (line) => {
      if (ws.readyState !== ReadyState.OPEN) return;
      ws.send(binary ? Buffer.from(line, 'utf8') : line);
    });
    // EOF: the closing handshake starts after the lines already sent (they go first).
    lines.on('close', closeNormally);
  }
}

/** `-v`: the opening handshake as it went, curl style (> sent, < received, * agreed). */
function describeHandshake(ws: WebSocket): string {
  const lines: string[] = [];
  const handshake = ws.handshake;
  if (handshake !== undefined) {
    for (const line of handshake.request.split('\r\n')) if (line !== '') lines.push(`> ${line}`);
    const { response } = handshake;
    lines.push(`< HTTP/${response.httpVersion} ${response.status} ${response.statusText}`);
    for (const [name, value] of Object.entries(response.headers)) lines.push(`< ${name}: ${value}`);
  }
  lines.push(`* subprotocol: ${ws.protocol === '' ? '(none)' : ws.protocol}`, `* extensions: ${ws.extensions === '' ? '(none)' : ws.extensions}`);
  return `${lines.join('\n')}\n`;
}

/** The connect failure in one line; a wss:// URL to a server that does not speak TLS says so. */
function explainConnectFailure(error: WebSocketError, url: string): string {
  const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
  const code = cause?.code ?? '';
  if (url.startsWith('wss:') && (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || code === 'EPROTO')) {
    return `${new URL(url).host} did not answer with TLS (${code}): is it a ws:// server? Try ws:// instead of wss://`;
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME/.test(code)) {
    return `${error.message} (trust its certificate with --ca FILE, or skip the check with --insecure)`;
  }
  return error.message;
}
