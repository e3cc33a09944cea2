/**
 * Options that refuse mistakes (README "Options and defaults"). Every option of the README's
 * tables, given a wrong type and (where it has a range) a value out of range, is refused where it
 * enters, by every entry point that takes it, with a TypeError (InvalidOptionError, code
 * WSF_ERR_INVALID_OPTION) whose message names the option and what it got. ws's options that do
 * not exist here are refused with what to use instead (the issue: a `verifyClient` that is ignored
 * is an authentication that accepts everyone). Valid options are accepted and serve connections
 * over loopback; a server checks its options once, not per connection.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { WebSocketServer as WsServer } from 'ws';
import {
  clientPerMessageDeflate,
  connect,
  ErrorCode,
  InvalidOptionError,
  ReconnectingClient,
  serverPerMessageDeflate,
  WebSocket,
  WebSocketServer,
} from '../../src/index.js';
import { WebSocket as WhatwgWebSocket, WebSocketStream } from '../../src/whatwg.js';
import { guardProcess } from '../helpers/process-guard.js';
import { nextEvent, withTimeout } from '../helpers/timing.js';

guardProcess();

/** No server listens here: a call that got past its checks would fail later, with another error. */
const NOWHERE = 'ws://127.0.0.1:1/';

/** How the message shows a value it got (primitives only: the cases below use them). */
function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * The refusal of `option`: a TypeError and an InvalidOptionError with the stable code, the
 * option as `error.option` and, in backquotes, in the message, with what it got and, when given,
 * the words that say what to do instead.
 */
function refusal(option: string, got: string | undefined, says?: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof TypeError, `expected a TypeError, got ${String(error)}`);
    assert.ok(error instanceof InvalidOptionError, `expected an InvalidOptionError, got ${String(error)}`);
    assert.equal(error.code, ErrorCode.INVALID_OPTION);
    assert.equal(error.code, 'WSF_ERR_INVALID_OPTION');
    assert.equal(error.option, option);
    if (option !== '') assert.ok(error.message.includes(`\`${option}\``), `the message names \`${option}\`: ${error.message}`);
    if (got !== undefined) assert.ok(error.message.includes(`got ${got}`), `the message says it got ${got}: ${error.message}`);
    if (says !== undefined) assert.ok(error.message.includes(says), `the message says "${says}": ${error.message}`);
    assert.ok(!error.message.includes('\n'), 'one line');
    return true;
  };
}

/** `{ a: { b: value } }` for the option path 'a.b'. */
function optionsAt(path: string, value: unknown): Record<string, unknown> {
  const keys = path.split('.');
  let options: Record<string, unknown> = { [keys.pop()!]: value };
  while (keys.length > 0) options = { [keys.pop()!]: options };
  return options;
}

/** An entry point that takes an options object: it throws, or returns a promise that rejects. */
interface EntryPoint {
  readonly name: string;
  call(options: unknown): unknown;
}

async function assertRefused(entry: EntryPoint, options: unknown, check: (error: unknown) => boolean): Promise<void> {
  let result: unknown;
  try {
    result = entry.call(options);
  } catch (error) {
    assert.ok(check(error));
    return;
  }
  assert.ok(result instanceof Promise, `${entry.name} accepted ${JSON.stringify(options)}`);
  await assert.rejects(result, check);
}

const server: EntryPoint = { name: 'new WebSocketServer()', call: (options) => new WebSocketServer(options as never) };
const client: EntryPoint = { name: 'connect()', call: (options) => connect(NOWHERE, options as never) };
const reconnecting: EntryPoint = { name: 'new ReconnectingClient()', call: (options) => new ReconnectingClient(NOWHERE, options as never) };
const whatwg: EntryPoint = { name: 'new WebSocket() (wsforge/whatwg)', call: (options) => new WhatwgWebSocket(NOWHERE, [], options as never) };
const stream: EntryPoint = { name: 'new WebSocketStream()', call: (options) => new WebSocketStream(NOWHERE, options as never) };
const overDuplex: EntryPoint = {
  name: 'new WebSocket(duplex, init)',
  call: (options) => new WebSocket(new PassThrough(), { role: 'client', ...(options as object) }),
};

/** One option: a value of the wrong type and, where the option has a range, one outside it. */
interface OptionCase {
  readonly option: string;
  readonly wrongType: unknown;
  readonly outOfRange?: unknown;
  /** The option the out-of-range refusal names, when it is an item of a list (`origins[0]`). */
  readonly outOfRangeNames?: string;
  /** What `got` shows, for values that are not primitives. */
  readonly shownAs?: { wrongType?: string; outOfRange?: string };
}

async function assertCase(entry: EntryPoint, item: OptionCase, prefix = ''): Promise<void> {
  const option = prefix + item.option;
  const wrongTypeShown = item.shownAs?.wrongType ?? shown(item.wrongType);
  await assertRefused(entry, optionsAt(option, item.wrongType), refusal(option, wrongTypeShown));
  if (!('outOfRange' in item)) return;
  const named = item.outOfRangeNames === undefined ? option : prefix + item.outOfRangeNames;
  await assertRefused(entry, optionsAt(option, item.outOfRange), refusal(named, item.shownAs?.outOfRange ?? shown(item.outOfRange)));
}

// ---- The cases: every option of README's tables (and ListenOptions, WebSocketInit, send options) ----

const connectionCases: OptionCase[] = [
  { option: 'maxPayload', wrongType: '16 MiB', outOfRange: 0 },
  { option: 'maxFragments', wrongType: '262144', outOfRange: 0 },
  { option: 'closeTimeout', wrongType: '5s', outOfRange: 2 ** 31 },
  { option: 'highWaterMark', wrongType: '1 MiB', outOfRange: -1 },
  { option: 'maxBackpressure', wrongType: '64 MiB', outOfRange: 1.5 },
  { option: 'closeOnBackpressureLimit', wrongType: 'yes' },
  { option: 'pingInterval', wrongType: '20s', outOfRange: -1 },
  { option: 'pingTimeout', wrongType: true, outOfRange: 0 },
  { option: 'idleTimeout', wrongType: '30s', outOfRange: Infinity },
  { option: 'autoPong', wrongType: 1 },
  { option: 'observeFrames', wrongType: 'true' },
  { option: 'textAsBuffer', wrongType: 1 },
];

const serverCases: OptionCase[] = [
  { option: 'path', wrongType: 5, outOfRange: 'chat' },
  { option: 'origins', wrongType: 'https://app.example.com', outOfRange: ['https://app.example.com', 'app.example.com'], outOfRangeNames: 'origins[1]', shownAs: { outOfRange: '"app.example.com"' } },
  { option: 'protocols', wrongType: 'chat', outOfRange: ['chat v2'], outOfRangeNames: 'protocols[0]', shownAs: { outOfRange: '"chat v2"' } },
  { option: 'handleProtocols', wrongType: 'chat' },
  { option: 'onHandshake', wrongType: true },
  { option: 'perMessageDeflate', wrongType: 'yes' },
  { option: 'extensions', wrongType: 'permessage-deflate', outOfRange: [{ name: 'x' }], outOfRangeNames: 'extensions[0]', shownAs: { outOfRange: 'an object' } },
  { option: 'handshakeTimeout', wrongType: '10s', outOfRange: 0 },
  { option: 'maxHeaderSize', wrongType: '16k', outOfRange: 0 },
  { option: 'maxConnections', wrongType: '1000', outOfRange: -1 },
  { option: 'maxTotalBackpressure', wrongType: '1 GiB', outOfRange: -1 },
  { option: 'pubsub', wrongType: 'redis', outOfRange: { publish() {} }, shownAs: { outOfRange: 'an object' } },
  { option: 'handlers', wrongType: 'echo' },
];

const handlerCases: OptionCase[] = ['open', 'message', 'ping', 'pong', 'close', 'error', 'drain'].map((name) => ({ option: name, wrongType: 'function' }));

const clientCases: OptionCase[] = [
  { option: 'headers', wrongType: 'Authorization: Bearer x', outOfRange: { 'X-Count': 5 }, shownAs: { outOfRange: 'an object' } },
  { option: 'protocols', wrongType: 5 },
  { option: 'origin', wrongType: 5 },
  { option: 'handshakeTimeout', wrongType: '10s', outOfRange: 2 ** 31 },
  { option: 'maxHeaderSize', wrongType: '16k', outOfRange: -1 },
  { option: 'tls', wrongType: 'insecure' },
  { option: 'perMessageDeflate', wrongType: 1 },
  { option: 'extensions', wrongType: 'permessage-deflate', outOfRange: [{ name: 'x', accept() {} }], outOfRangeNames: 'extensions[0]', shownAs: { outOfRange: 'an object' } },
  { option: 'signal', wrongType: 'abort', outOfRange: new AbortController(), shownAs: { outOfRange: 'an AbortController' } },
  { option: 'proxy', wrongType: 3128, outOfRange: true },
  { option: 'socketPath', wrongType: 5, outOfRange: '' },
];

const reconnectCases: OptionCase[] = [
  { option: 'initialDelay', wrongType: '1s', outOfRange: -1 },
  { option: 'maxDelay', wrongType: '30s', outOfRange: 2 ** 31 },
  { option: 'factor', wrongType: '2', outOfRange: 0.5 },
  { option: 'jitter', wrongType: '0.5', outOfRange: 2 },
  { option: 'maxRetries', wrongType: '10', outOfRange: -1 },
  { option: 'queueLimit', wrongType: '1 MiB', outOfRange: -1 },
  { option: 'shouldRetry', wrongType: true },
  { option: 'random', wrongType: 0.5 },
];

const deflateCases: OptionCase[] = [
  { option: 'serverNoContextTakeover', wrongType: 'yes' },
  { option: 'clientNoContextTakeover', wrongType: 1 },
  { option: 'serverMaxWindowBits', wrongType: '15', outOfRange: 7 },
  { option: 'clientMaxWindowBits', wrongType: true, outOfRange: 16 },
  { option: 'level', wrongType: 'best', outOfRange: 10 },
  { option: 'memLevel', wrongType: '8', outOfRange: 0 },
  { option: 'threshold', wrongType: '1k', outOfRange: -1 },
  { option: 'concurrency', wrongType: '10', outOfRange: 0 },
];

const listenCases: OptionCase[] = [
  { option: 'port', wrongType: '8080', outOfRange: 65536 },
  { option: 'host', wrongType: 127001, outOfRange: '' },
  { option: 'path', wrongType: 5, outOfRange: '' },
  { option: 'backlog', wrongType: '511', outOfRange: -1 },
  { option: 'tls', wrongType: 'on' },
];

const initCases: OptionCase[] = [
  { option: 'role', wrongType: 1, outOfRange: 'peer' },
  { option: 'protocol', wrongType: ['chat'], shownAs: { wrongType: 'an array of 1' } },
  { option: 'extension', wrongType: 'permessage-deflate', outOfRange: { name: 'permessage-deflate' }, shownAs: { outOfRange: 'an object' } },
  { option: 'url', wrongType: new URL(NOWHERE), shownAs: { wrongType: 'a URL' } },
  { option: 'head', wrongType: 'bytes', outOfRange: new Uint8Array(1), shownAs: { outOfRange: 'a Uint8Array' } },
];

const sendCases: OptionCase[] = [
  { option: 'binary', wrongType: 'yes' },
  { option: 'compress', wrongType: 0 },
];

describe('options that refuse mistakes: wrong types and values out of range', () => {
  for (const item of connectionCases) {
    test(`connection option ${item.option}: refused by the server, connect(), ReconnectingClient, both wsforge/whatwg classes and new WebSocket(duplex, init)`, async () => {
      for (const entry of [server, client, reconnecting, whatwg, stream, overDuplex]) await assertCase(entry, item);
    });
  }

  for (const item of serverCases) {
    test(`server option ${item.option}`, async () => assertCase(server, item));
  }

  test('server handlers: each handler must be a function', async () => {
    for (const item of handlerCases) await assertCase(server, item, 'handlers.');
  });

  for (const item of clientCases) {
    test(`client option ${item.option}: refused by connect(), ReconnectingClient and the wsforge/whatwg classes that take it`, async () => {
      await assertCase(client, item);
      await assertCase(reconnecting, item);
      // The WHATWG classes take the subprotocols elsewhere (WebSocket) or as a list only (WebSocketStream).
      if (item.option !== 'protocols') await assertCase(whatwg, item);
      if (item.option !== 'protocols' && item.option !== 'signal') await assertCase(stream, item);
    });
  }

  test('reconnect options (ReconnectingClient)', async () => {
    for (const item of reconnectCases) await assertCase(reconnecting, item, 'reconnect.');
  });

  test('permessage-deflate options: the server, connect(), and serverPerMessageDeflate / clientPerMessageDeflate themselves', async () => {
    const serverDeflate: EntryPoint = { name: 'serverPerMessageDeflate()', call: (options) => serverPerMessageDeflate(options as never) };
    const clientDeflate: EntryPoint = { name: 'clientPerMessageDeflate()', call: (options) => clientPerMessageDeflate(options as never) };
    for (const item of [...deflateCases, { option: 'acceptOffer', wrongType: true }]) {
      await assertCase(server, item, 'perMessageDeflate.');
      await assertCase(serverDeflate, item);
    }
    for (const item of deflateCases) {
      await assertCase(client, item, 'perMessageDeflate.');
      await assertCase(clientDeflate, item);
    }
  });

  test('listen() options (rejected: listen returns a promise)', async (t) => {
    const wss = new WebSocketServer();
    t.after(() => wss.close());
    const listen: EntryPoint = { name: 'listen()', call: (options) => wss.listen(options as never) };
    for (const item of listenCases) await assertCase(listen, item);
  });

  test('new WebSocket(duplex, init): the init options, and `role` is required', async () => {
    const bare: EntryPoint = { name: 'new WebSocket(duplex, init)', call: (options) => new WebSocket(new PassThrough(), options as never) };
    for (const item of initCases) await assertCase(bare, item);
    assert.throws(() => new WebSocket(new PassThrough(), {} as never), refusal('role', undefined, 'is required'));
    assert.throws(() => new WebSocket(new PassThrough(), undefined as never), refusal('role', undefined, 'is required'));
  });

  test('the options of one message: wss.prepare(), wss.broadcast(), wss.publish(), ws.publish()', async (t) => {
    const wss = new WebSocketServer();
    t.after(() => wss.close());
    const entries: EntryPoint[] = [
      { name: 'wss.prepare()', call: (options) => wss.prepare('x', options as never) },
      { name: 'wss.broadcast()', call: (options) => wss.broadcast('x', options as never) },
      { name: 'wss.publish()', call: (options) => wss.publish('topic', 'x', options as never) },
    ];
    for (const entry of entries) for (const item of sendCases) await assertCase(entry, item);
    await assertCase(entries[1]!, { option: 'except', wrongType: 'me' });
    await assertCase(entries[1]!, { option: 'to', wrongType: 5 });
    // uWebSockets' and Bun's publish(topic, data, isBinary, compress): the boolean would be ignored.
    for (const entry of entries) {
      await assertRefused(entry, true, refusal('', 'true', '{ binary, compress }'));
    }
    // ws.publish, from a connection of the server.
    const { port } = await wss.listen({ port: 0 });
    const opened = nextEvent<[WebSocket]>(wss, 'connection', 5000);
    const peer = await connect(`ws://127.0.0.1:${port}/`);
    t.after(() => peer.terminate());
    const [ws] = await opened;
    assert.throws(() => ws.publish('topic', 'x', { binray: true } as never), refusal('binray', undefined, 'did you mean `binary`?'));
    assert.throws(() => ws.publish('topic', 'x', { compress: 'no' } as never), refusal('compress', '"no"'));
    assert.ok(/ws\.publish\(\)/.test(captureMessage(() => ws.publish('topic', 'x', { compress: 'no' } as never))), 'the message names ws.publish()');
  });

  test('nested options: the message names the whole path, and what it got', () => {
    assert.throws(() => new WebSocketServer({ perMessageDeflate: { level: 12 } }), refusal('perMessageDeflate.level', '12', 'an integer from -1 to 9'));
    assert.throws(() => new WebSocketServer({ handlers: { mesage() {} } as never }), refusal('handlers.mesage', undefined, 'did you mean `message`?'));
    assert.throws(() => new ReconnectingClient(NOWHERE, { reconnect: { factor: 0.5 } }), refusal('reconnect.factor', '0.5', 'a number >= 1'));
  });

  test('a typo gets "did you mean"; a word far from every option does not', () => {
    assert.throws(() => new WebSocketServer({ maxPayloadd: 1 } as never), refusal('maxPayloadd', undefined, 'did you mean `maxPayload`?'));
    assert.throws(() => new WebSocketServer({ orgins: [] } as never), refusal('orgins', undefined, 'did you mean `origins`?'));
    assert.throws(() => new WebSocketServer({ pingintervall: 1 } as never), refusal('pingintervall', undefined, 'did you mean `pingInterval`?'));
    assert.throws(
      () => new WebSocketServer({ frobnicate: true } as never),
      (error: unknown) => refusal('frobnicate', undefined, 'unknown option `frobnicate`')(error) && !(error as Error).message.includes('did you mean'),
    );
    // Small tables list their options.
    assert.throws(() => new WebSocketServer().prepare('x', { text: true } as never), refusal('text', undefined, 'the options are `binary`, `compress`'));
  });

  test('an options argument that is not an object is refused, with what was probably meant', async (t) => {
    assert.throws(() => new WebSocketServer(8080 as never), refusal('', '8080', '`await new WebSocketServer().listen({ port: 8080 })`'));
    assert.throws(() => new WebSocketServer(null as never), refusal('', 'null'));
    assert.throws(() => new WebSocketServer({ listen() {}, on() {} } as never), refusal('', 'an object', 'wss.attach(server)'));
    assert.throws(() => new WebSocketServer(createServer() as never), refusal('', 'a Server', 'wss.attach(server)'));
    const wss = new WebSocketServer();
    t.after(() => wss.close());
    await assert.rejects(wss.listen(8080 as never), refusal('', '8080', '`listen({ port: 8080 })`'));
    await assert.rejects(wss.listen('/tmp/x.sock' as never), refusal('', '"/tmp/x.sock"', '`listen({ path: "/tmp/x.sock" })`'));
    await assert.rejects(connect(NOWHERE, ['chat'] as never), refusal('', 'an array of 1', '`{ protocols }`'));
    await assert.rejects(connect(NOWHERE, null as never), refusal('', 'null'));
    assert.throws(() => new WhatwgWebSocket(NOWHERE, { protocols: ['chat'] } as never), refusal('protocols', 'an object', 'new WebSocket(url, protocols, options)'));
  });

  test('listen(): `path` (a Unix socket) with `port` or `host` (TCP) is refused instead of ignoring one', async (t) => {
    const wss = new WebSocketServer();
    t.after(() => wss.close());
    await assert.rejects(wss.listen({ path: '/tmp/wsforge-options.sock', port: 8080 }), refusal('port', undefined, 'cannot be given together'));
    await assert.rejects(wss.listen({ path: '/tmp/wsforge-options.sock', host: '127.0.0.1' }), refusal('host', undefined, 'cannot be given together'));
    assert.equal(wss.address(), null, 'nothing is listening');
  });
});

function captureMessage(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}

// ---- Other libraries' options, and renamed ones ----------------------------------------------------

/** ws's option, and the words of what to use instead. */
const wsServerHints: Record<string, string> = {
  verifyClient: '`onHandshake`',
  port: '`await wss.listen({ port })`',
  host: '`await wss.listen({ host, port })`',
  backlog: '`await wss.listen({ backlog })`',
  server: '`wss.attach(server)`',
  noServer: '`wss.handleUpgrade(request, socket, head)`',
  clientTracking: '`wss.clients` is always kept',
  WebSocket: 'no equivalent',
  skipUTF8Validation: 'always validated',
  allowSynchronousEvents: 'delivered as they are parsed',
  maxBufferedChunks: '`maxFragments` and `maxPayload`',
  maxPendingAutoPongs: 'no equivalent',
};

/** Options of ws 8 that wsforge has too, under the same name and meaning. */
const SHARED_WITH_WS = new Set(['maxPayload', 'maxFragments', 'perMessageDeflate', 'handleProtocols', 'closeTimeout', 'autoPong', 'path']);

const wsClientHints: Record<string, string> = {
  followRedirects: 'redirects are not followed',
  maxRedirects: 'redirects are not followed',
  protocolVersion: 'always 13',
  generateMask: 'node:crypto',
  agent: '`proxy`',
  createConnection: '`socketPath`',
  finishRequest: '`headers`',
  skipUTF8Validation: 'always validated',
  allowSynchronousEvents: 'delivered as they are parsed',
  maxBufferedChunks: '`maxFragments`',
  maxPendingAutoPongs: 'no equivalent',
  timeout: '`handshakeTimeout`',
  rejectUnauthorized: '`tls: { rejectUnauthorized }`',
  ca: '`tls: { ca }`',
  cert: '`tls: { cert }`',
  key: '`tls: { key }`',
  servername: '`tls: { servername }`',
  checkServerIdentity: '`tls: { checkServerIdentity }`',
  auth: '`headers: { Authorization }`',
  host: 'part of the URL',
  port: 'part of the URL',
  path: 'part of the URL',
};

const wsDeflateHints: Record<string, string> = {
  zlibDeflateOptions: '`level` and `memLevel`',
  zlibInflateOptions: 'inflating needs none',
  concurrencyLimit: '`concurrency`',
};

const WS_API = "import { WebSocketServer } from 'wsforge/ws' for the ws API";

describe("options of ws and other libraries are refused with what to use instead", () => {
  test("every option of ws 8's WebSocketServer that wsforge lacks is refused with a hint (the list read from ws itself)", () => {
    const wsOptions = Object.keys(new WsServer({ noServer: true }).options);
    assert.ok(wsOptions.includes('verifyClient') && wsOptions.length >= 15, `ws's options: ${wsOptions.join(', ')}`);
    for (const name of wsOptions) {
      if (SHARED_WITH_WS.has(name)) continue;
      const hint = wsServerHints[name];
      assert.ok(hint !== undefined, `a hint is tested for ws's option ${name}`);
      assert.throws(() => new WebSocketServer({ [name]: true } as never), refusal(name, undefined, hint), name);
      assert.throws(() => new WebSocketServer({ [name]: true } as never), (error: unknown) => (error as Error).message.includes("ws's option"));
    }
  });

  test("the issue's four: verifyClient, port, server and noServer say what to use and where the ws API is", () => {
    const verifyClient = (): boolean => true;
    assert.throws(() => new WebSocketServer({ verifyClient } as never), refusal('verifyClient', undefined, `\`verifyClient\` is ws's option: use \`onHandshake\` (or ${WS_API})`));
    assert.throws(() => new WebSocketServer({ port: 8080 } as never), refusal('port', undefined, 'listen({ port })'));
    assert.throws(() => new WebSocketServer({ server: createServer() } as never), refusal('server', undefined, 'attach(server)'));
    assert.throws(() => new WebSocketServer({ noServer: true } as never), refusal('noServer', undefined, 'handleUpgrade'));
    for (const name of ['verifyClient', 'port', 'server', 'noServer']) {
      assert.throws(() => new WebSocketServer({ [name]: true } as never), (error: unknown) => (error as Error).message.endsWith(`(or ${WS_API})`));
    }
  });

  test("ws's client options are refused by connect() and ReconnectingClient with a hint", async () => {
    for (const [name, hint] of Object.entries(wsClientHints)) {
      await assertRefused(client, { [name]: true }, refusal(name, undefined, hint));
      await assertRefused(reconnecting, { [name]: true }, refusal(name, undefined, hint));
    }
  });

  test("ws's permessage-deflate options are refused with a hint, on both sides", async () => {
    for (const [name, hint] of Object.entries(wsDeflateHints)) {
      assert.throws(() => new WebSocketServer({ perMessageDeflate: { [name]: {} } }), refusal(`perMessageDeflate.${name}`, undefined, hint));
      await assertRefused(client, { perMessageDeflate: { [name]: {} } }, refusal(`perMessageDeflate.${name}`, undefined, hint));
    }
    assert.throws(() => clientPerMessageDeflate({ acceptOffer: () => true }), refusal('acceptOffer', undefined, 'is a server option'));
  });

  test('renamed: maxBufferedAmount → maxBackpressure, everywhere connection options are taken', async () => {
    for (const entry of [server, client, reconnecting, whatwg, stream, overDuplex]) {
      await assertRefused(entry, { maxBufferedAmount: 1 << 20 }, refusal('maxBufferedAmount', undefined, 'was renamed: use `maxBackpressure`'));
    }
  });

  test("uWebSockets' and Bun's names: handlers at the top level, maxPayloadLength, backpressureLimit, compression", () => {
    assert.throws(() => new WebSocketServer({ message() {} } as never), refusal('message', undefined, 'pass it in `handlers: { message }`'));
    assert.throws(() => new WebSocketServer({ open() {} } as never), refusal('open', undefined, 'pass it in `handlers: { open }`'));
    assert.throws(() => new WebSocketServer({ upgrade() {} } as never), refusal('upgrade', undefined, '`onHandshake`'));
    assert.throws(() => new WebSocketServer({ maxPayloadLength: 1 } as never), refusal('maxPayloadLength', undefined, '`maxPayload`'));
    assert.throws(() => new WebSocketServer({ backpressureLimit: 1 } as never), refusal('backpressureLimit', undefined, '`maxBackpressure`'));
    assert.throws(() => new WebSocketServer({ compression: 1 } as never), refusal('compression', undefined, '`perMessageDeflate`'));
    assert.throws(() => new WebSocketServer({ handlers: { connection() {} } as never }), refusal('handlers.connection', undefined, '`open(ws, request)`'));
  });

  test("reconnecting-websocket's names, and reconnect options given at the top level", () => {
    assert.throws(() => new ReconnectingClient(NOWHERE, { reconnect: { minReconnectionDelay: 1 } as never }), refusal('reconnect.minReconnectionDelay', undefined, '`initialDelay`'));
    assert.throws(() => new ReconnectingClient(NOWHERE, { reconnect: { maxEnqueuedMessages: 1 } as never }), refusal('reconnect.maxEnqueuedMessages', undefined, '`queueLimit` (in bytes)'));
    assert.throws(() => new ReconnectingClient(NOWHERE, { maxRetries: 3 } as never), refusal('maxRetries', undefined, '`reconnect: { maxRetries }`'));
    assert.throws(() => new ReconnectingClient(NOWHERE, { maxReconnectionDelay: 3 } as never), refusal('maxReconnectionDelay', undefined, '`reconnect: { maxDelay }`'));
    assert.throws(() => new ReconnectingClient(NOWHERE, { connectionTimeout: 3 } as never), refusal('connectionTimeout', undefined, '`handshakeTimeout`'));
  });

  test('TLS options given to listen() outside `tls`, and a subprotocol list in the WHATWG options', async (t) => {
    const wss = new WebSocketServer();
    t.after(() => wss.close());
    await assert.rejects(wss.listen({ cert: 'x', key: 'y' } as never), refusal('cert', undefined, '`tls: { cert }`'));
    assert.throws(() => new WhatwgWebSocket(NOWHERE, [], { protocols: ['chat'] } as never), refusal('protocols', undefined, 'the second argument'));
    assert.throws(() => new WebSocketServer({ tls: {} } as never), refusal('tls', undefined, 'listen({ port, tls'));
  });

  test("ws's callbacks to handleUpgrade() and close() are refused: they would never be called", async () => {
    const wss = new WebSocketServer();
    const socket = new PassThrough();
    assert.throws(
      () => Reflect.apply(wss.handleUpgrade, wss, [{} as IncomingMessage, socket, Buffer.alloc(0), () => {}]),
      refusal('callback', undefined, "emits 'connection' itself"),
    );
    assert.throws(() => Reflect.apply(wss.close, wss, [() => {}]), refusal('callback', undefined, '`await wss.close()`'));
    await wss.close();
  });

  test("ws's send(data, callback) is refused: the callback would never be called", () => {
    const ws = new WebSocket(new PassThrough(), { role: 'server' });
    assert.throws(() => Reflect.apply(ws.send, ws, ['x', () => {}]), (error: unknown) => {
      assert.ok(error instanceof InvalidOptionError);
      assert.equal(error.code, ErrorCode.INVALID_OPTION);
      assert.match(error.message, /send\(data, callback\) is in 'wsforge\/ws'/);
      return true;
    });
    ws.terminate();
  });
});

// ---- Valid options are accepted -------------------------------------------------------------------

describe('valid options are accepted', () => {
  test('a server with every option set, and a client with every option set, exchange a message over loopback', async (t) => {
    const messages: string[] = [];
    const wss = new WebSocketServer({
      maxPayload: 1 << 20,
      maxFragments: 1000,
      closeTimeout: 1000,
      highWaterMark: 64 * 1024,
      maxBackpressure: 1 << 20,
      closeOnBackpressureLimit: false,
      pingInterval: 0,
      pingTimeout: 1000,
      idleTimeout: 0,
      autoPong: true,
      observeFrames: false,
      path: ['/chat', '/other'],
      origins: ['https://app.example.com', 'null'],
      protocols: ['chat.v2', 'chat.v1'],
      handleProtocols: (offered) => offered[0],
      onHandshake: () => ({ data: 'user' }),
      perMessageDeflate: { serverMaxWindowBits: 10, clientMaxWindowBits: 10, level: 1, memLevel: 4, threshold: 0, acceptOffer: () => true },
      extensions: [],
      handshakeTimeout: 5000,
      maxHeaderSize: 8192,
      maxConnections: Infinity,
      maxTotalBackpressure: 1 << 24,
      handlers: { message: (ws, data) => messages.push(`${String(ws.data)}:${String(data)}`) },
    });
    t.after(() => wss.close());
    const { port } = await wss.listen({ port: 0, host: '127.0.0.1', backlog: 16 });
    const controller = new AbortController();
    const ws = await connect(`ws://127.0.0.1:${port}/chat`, {
      maxPayload: 1 << 20,
      pingInterval: 10_000,
      pingTimeout: 10_000,
      idleTimeout: 60_000,
      headers: { 'X-Single': 'a', 'X-Multi': ['b', 'c'] },
      protocols: ['chat.v1'],
      origin: 'https://app.example.com',
      handshakeTimeout: 5000,
      maxHeaderSize: 8192,
      tls: {},
      perMessageDeflate: { clientMaxWindowBits: 10, serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: 0 },
      extensions: [],
      signal: controller.signal,
      proxy: false,
    });
    t.after(() => ws.terminate());
    assert.equal(ws.protocol, 'chat.v1');
    assert.match(ws.extensions, /^permessage-deflate/);
    ws.send('hello');
    const closed = nextEvent<[number]>(ws, 'close', 5000);
    await withTimeout(
      (async () => {
        while (messages.length === 0) await new Promise((resolve) => setImmediate(resolve));
      })(),
      5000,
      'the message',
    );
    assert.deepEqual(messages, ['user:hello']);
    ws.close(1000);
    assert.equal((await closed)[0], 1000);
  });

  test('options set to undefined stand for the defaults: a server and a client with every option undefined connect', async (t) => {
    const undefinedFor = (cases: readonly OptionCase[]): Record<string, undefined> => Object.fromEntries(cases.map((item) => [item.option, undefined]));
    const wss = new WebSocketServer({ ...undefinedFor(connectionCases), ...undefinedFor(serverCases) } as never);
    t.after(() => wss.close());
    const { port } = await wss.listen({ ...undefinedFor(listenCases), port: 0 } as { port: number });
    const ws = await connect(`ws://127.0.0.1:${port}/`, { ...undefinedFor(connectionCases), ...undefinedFor(clientCases), proxy: false } as never);
    t.after(() => ws.terminate());
    assert.equal(wss.clients.size, 1);
  });

  test('ReconnectingClient and the wsforge/whatwg classes accept their options and connect', async (t) => {
    const wss = new WebSocketServer({ protocols: ['chat'] });
    t.after(() => wss.close());
    const { port } = await wss.listen({ port: 0 });
    const url = `ws://127.0.0.1:${port}/`;
    const reconnectingClient = new ReconnectingClient(url, {
      protocols: ['chat'],
      reconnect: { initialDelay: 10, maxDelay: 100, factor: 1.5, jitter: 0, maxRetries: 2, queueLimit: 1024, shouldRetry: () => true, random: () => 0.5 },
    });
    const [opened] = await nextEvent<[WebSocket]>(reconnectingClient, 'open', 5000);
    assert.equal(opened.protocol, 'chat');
    const ended = nextEvent(reconnectingClient, 'end', 5000);
    reconnectingClient.close();
    await ended;

    const browserLike = new WhatwgWebSocket(url, ['chat'], { handshakeTimeout: 5000, maxPayload: 1024 });
    await withTimeout(new Promise((resolve) => browserLike.addEventListener('open', resolve, { once: true })), 5000, 'the WHATWG open event');
    const browserClosed = new Promise((resolve) => browserLike.addEventListener('close', resolve, { once: true }));
    browserLike.close();
    await withTimeout(browserClosed, 5000, 'the WHATWG close event');

    const streamClient = new WebSocketStream(url, { protocols: ['chat'], signal: null, highWaterMark: 1024 });
    const info = await withTimeout(streamClient.opened, 5000, 'WebSocketStream opened');
    assert.equal(info.protocol, 'chat');
    streamClient.close();
    await withTimeout(streamClient.closed, 5000, 'WebSocketStream closed');
  });

  test('new WebSocket(duplex, init) with valid init options runs over a loopback TCP pair', async (t) => {
    const listener = createServer();
    t.after(() => listener.close());
    listener.listen(0, '127.0.0.1');
    await withTimeout(once(listener, 'listening'), 5000, 'the TCP listener');
    const address = listener.address();
    assert.ok(address !== null && typeof address === 'object');
    const accepted = withTimeout(once(listener, 'connection'), 5000, 'the TCP connection') as Promise<[Socket]>;
    const socket = netConnect(address.port, '127.0.0.1');
    t.after(() => socket.destroy());
    await withTimeout(once(socket, 'connect'), 5000, 'the TCP connect');
    const [serverSocket] = await accepted;
    // The opening handshake is the caller's business here: both ends start with frames.
    const serverSide = new WebSocket(serverSocket, { role: 'server', extension: null, head: Buffer.alloc(0), maxPayload: 1024, pingInterval: 0 });
    const clientSide = new WebSocket(socket, { role: 'client', url: 'ws://127.0.0.1/', protocol: 'chat', maxPayload: 1024, closeTimeout: 500, pingInterval: 0 });
    t.after(() => {
      serverSide.terminate();
      clientSide.terminate();
    });
    assert.equal(clientSide.protocol, 'chat');
    const message = nextEvent<[string]>(serverSide, 'message', 5000);
    clientSide.send('over a duplex');
    assert.equal((await message)[0], 'over a duplex');
  });

  test('a server checks its options once, not per connection', async (t) => {
    let ownKeysCalls = 0;
    const options = new Proxy(
      { maxPayload: 1 << 20 },
      {
        ownKeys(target) {
          ownKeysCalls++;
          return Reflect.ownKeys(target);
        },
      },
    );
    const wss = new WebSocketServer(options);
    t.after(() => wss.close());
    const afterConstruction = ownKeysCalls;
    assert.ok(afterConstruction >= 1, 'the options were read as a whole at construction');
    const { port } = await wss.listen({ port: 0 });
    const clients: WebSocket[] = [];
    for (let i = 0; i < 3; i++) clients.push(await connect(`ws://127.0.0.1:${port}/`));
    t.after(() => clients.forEach((ws) => ws.terminate()));
    assert.equal(wss.clients.size, 3);
    assert.equal(ownKeysCalls, afterConstruction, 'no connection went over the options again');
  });
});

// ---- Documentation: every option in README's tables has a case above --------------------------------

describe("README's option tables", () => {
  test('every option listed in "Options and defaults" and "Compression" is tested above', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = (title: string): string => {
      const start = readme.indexOf(`\n## ${title}`);
      assert.ok(start !== -1, `README has a section "${title}"`);
      const end = readme.indexOf('\n## ', start + 1);
      return readme.slice(start, end === -1 ? undefined : end);
    };
    const documented = new Set<string>();
    for (const text of [section('Options and defaults'), section('Compression (permessage-deflate)')]) {
      for (const line of text.split('\n')) {
        // A table row whose first cell names options: | `maxPayload` | ... or | `protocols` / `handleProtocols` |.
        const cell = /^\| ([^|]+) \|/.exec(line)?.[1];
        if (cell === undefined) continue;
        for (const [, name] of cell.matchAll(/`([A-Za-z]+)(?:\([^`]*\))?`/g)) documented.add(name!);
      }
    }
    assert.ok(documented.size >= 40, `options found in README's tables: ${[...documented].join(', ')}`);
    const tested = new Set(
      [...connectionCases, ...serverCases, ...clientCases, ...reconnectCases, ...deflateCases, { option: 'acceptOffer' }].map((item) => item.option),
    );
    const untested = [...documented].filter((name) => !tested.has(name));
    assert.deepEqual(untested, [], 'options in README without a test case');
  });
});
