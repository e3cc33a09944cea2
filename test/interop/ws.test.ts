// Interop with the `ws` package (the most used Node WebSocket library), over real loopback
// sockets, in both roles: ws client -> wsforge server (raw TCP listen() and attached to
// node:http), and wsforge client -> ws server.
import assert from 'node:assert/strict';
import { createServer, get as httpGet, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect, Opcode, WebSocketServer } from '../../src/index.js';
import { withTimeout } from '../helpers/timing.js';
import { assertSameBytes, jsonLikeText, randomBinary } from './byte-assertions.js';
import {
  closeWsforgeServer,
  openWsClient,
  startWsforgeServer,
  startWsServer,
  WsforgeRecorder,
  type WsforgeServer,
  type WsServer,
} from './connection-recorders.js';

/** Codes from each range an application may use; the 4999 reason is 123 bytes, the most a close frame holds (RFC 6455 §5.5). */
const CLOSE_CASES = [
  { code: 1000, reason: 'normal closure' },
  { code: 1001, reason: 'going away' },
  { code: 3000, reason: 'registered code 3000 ✓' },
  { code: 4999, reason: `${'x'.repeat(120)}✓` },
] as const;

interface Sample {
  label: string;
  data: Buffer;
  isBinary: boolean;
}

const SAMPLES: Sample[] = [
  { label: 'ASCII text', data: Buffer.from('hello from the other side'), isBinary: false },
  { label: 'non-ASCII text', data: Buffer.from('héllo wörld ✓ 𝄞 🚀 日本語'), isBinary: false },
  { label: 'binary', data: Buffer.from([0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff]), isBinary: true },
  { label: 'empty text', data: Buffer.alloc(0), isBinary: false },
  { label: 'empty binary', data: Buffer.alloc(0), isBinary: true },
];

const payloadOf = (sample: Sample): string | Buffer => (sample.isBinary ? sample.data : sample.data.toString('utf8'));

const dataFrames = (recorder: WsforgeRecorder) => recorder.frames.filter((f) => f.opcode < 0x8);

async function* chunksOf(buffer: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < buffer.length; offset += size) yield buffer.subarray(offset, offset + size);
}

describe('ws client -> wsforge server (listen on raw TCP)', () => {
  let server: WsforgeServer;
  before(async () => {
    server = await startWsforgeServer({ protocols: ['chat.v2', 'chat.v1'], observeFrames: true });
  });
  after(() => server.close());

  test('text, non-ASCII text, binary, empty text and empty binary arrive and echo back with their type', async () => {
    const client = await openWsClient(`${server.url}messages`);
    const { recorder: seen } = await server.connectionAt('/messages');
    for (const sample of SAMPLES) client.ws.send(payloadOf(sample), { binary: sample.isBinary });
    for (const sample of SAMPLES) {
      const got = await seen.nextMessage(5000, `the ${sample.label} on the wsforge server`);
      assert.equal(got.isBinary, sample.isBinary, `${sample.label}: type seen by wsforge`);
      assertSameBytes(got.data, sample.data, `${sample.label} seen by wsforge`);
    }
    for (const sample of SAMPLES) {
      const echoed = await client.nextMessage(5000, `the ${sample.label} echo on the ws client`);
      assert.equal(echoed.isBinary, sample.isBinary, `${sample.label}: type of the echo seen by ws`);
      assertSameBytes(echoed.data, sample.data, `${sample.label} echo seen by ws`);
    }
    client.ws.close(1000);
    assert.equal((await seen.waitForClose()).code, 1000);
    assert.equal((await client.waitForClose()).code, 1000);
  });

  test('1 MiB text and 16 MiB binary (the default maxPayload, inclusive) arrive whole and echo back', async () => {
    const client = await openWsClient(`${server.url}large`);
    const { recorder: seen } = await server.connectionAt('/large');
    const text = Buffer.from(jsonLikeText(1024 * 1024));
    const binary = randomBinary(16 * 1024 * 1024);
    client.ws.send(text.toString('utf8'));
    client.ws.send(binary);
    const gotText = await seen.nextMessage(15_000, 'the 1 MiB text on the wsforge server');
    assert.equal(gotText.isBinary, false);
    assertSameBytes(gotText.data, text, '1 MiB text seen by wsforge');
    const gotBinary = await seen.nextMessage(15_000, 'the 16 MiB binary on the wsforge server');
    assert.equal(gotBinary.isBinary, true);
    assertSameBytes(gotBinary.data, binary, '16 MiB binary seen by wsforge');
    const echoText = await client.nextMessage(15_000, 'the 1 MiB text echo');
    assert.equal(echoText.isBinary, false);
    assertSameBytes(echoText.data, text, '1 MiB text echo seen by ws');
    const echoBinary = await client.nextMessage(15_000, 'the 16 MiB binary echo');
    assert.equal(echoBinary.isBinary, true);
    assertSameBytes(echoBinary.data, binary, '16 MiB binary echo seen by ws');
    client.ws.close(1000);
    await client.waitForClose();
  });

  test('a message ws sends in fragments (fin: false) arrives as one message, also with a ping between fragments', async () => {
    const client = await openWsClient(`${server.url}fragments-in`);
    const { recorder: seen } = await server.connectionAt('/fragments-in');
    client.ws.send('frag-1 ', { fin: false });
    client.ws.send('frag-2 ', { fin: false });
    client.ws.send('frag-3', { fin: true });
    const text = await seen.nextMessage(5000, 'the fragmented text');
    assert.equal(text.isBinary, false);
    assert.equal(text.data.toString('utf8'), 'frag-1 frag-2 frag-3');
    assert.deepEqual(
      dataFrames(seen).map((f) => [f.opcode, f.fin]),
      [
        [Opcode.TEXT, false],
        [Opcode.CONTINUATION, false],
        [Opcode.CONTINUATION, true],
      ],
      'wsforge saw three frames on the wire',
    );
    // RFC 6455 §5.4: control frames may be injected in the middle of a fragmented message.
    const first = randomBinary(3000);
    const second = randomBinary(70_000);
    client.ws.send(first, { binary: true, fin: false });
    client.ws.ping(Buffer.from('between fragments'));
    client.ws.send(second, { binary: true, fin: true });
    const binary = await seen.nextMessage(5000, 'the fragmented binary');
    assert.equal(binary.isBinary, true);
    assertSameBytes(binary.data, Buffer.concat([first, second]), 'fragmented binary seen by wsforge');
    assert.equal((await seen.pings.next(5000)).toString(), 'between fragments');
    assert.equal((await client.pongs.next(5000)).toString(), 'between fragments');
    // The echoes arrive whole too.
    assert.equal((await client.nextMessage()).data.toString(), 'frag-1 frag-2 frag-3');
    assertSameBytes((await client.nextMessage()).data, Buffer.concat([first, second]), 'echo of the fragmented binary');
    client.ws.close(1000);
    await client.waitForClose();
  });

  test("wsforge's sendStream (a fragmented message) reaches ws as one message, text and 4 MiB binary", async () => {
    const client = await openWsClient(`${server.url}fragments-out`);
    const { ws } = await server.connectionAt('/fragments-out');
    await withTimeout(ws.sendStream(['alpha-', 'beta-', 'gämma ✓'], { binary: false }), 5000, 'sendStream (text)');
    const text = await client.nextMessage(5000, 'the streamed text');
    assert.equal(text.isBinary, false);
    assert.equal(text.data.toString('utf8'), 'alpha-beta-gämma ✓');
    const big = randomBinary(4 * 1024 * 1024);
    await withTimeout(ws.sendStream(chunksOf(big, 64 * 1024), { binary: true }), 10_000, 'sendStream (4 MiB binary)');
    const binary = await client.nextMessage(10_000, 'the streamed binary');
    assert.equal(binary.isBinary, true);
    assertSameBytes(binary.data, big, 'streamed 4 MiB binary seen by ws');
    // A multi-byte character split across two fragments is still valid UTF-8 for the whole message.
    const snowman = Buffer.from('☃');
    await withTimeout(ws.sendStream([snowman.subarray(0, 1), snowman.subarray(1)], { binary: false }), 5000, 'sendStream (split character)');
    assert.equal((await client.nextMessage(5000, 'the split character')).data.toString('utf8'), '☃');
    client.ws.close(1000);
    await client.waitForClose();
  });

  test('ping/pong with payloads both ways (ws pings wsforge, wsforge pings ws), including empty and 125-byte payloads', async () => {
    const client = await openWsClient(`${server.url}ping`);
    const { ws, recorder: seen } = await server.connectionAt('/ping');
    const payloads = [Buffer.from('ping from ws ✓'), Buffer.alloc(0), randomBinary(125)];
    for (const payload of payloads) {
      client.ws.ping(payload);
      assertSameBytes(await seen.pings.next(5000, 'a ping on the wsforge side'), payload, 'ping payload seen by wsforge');
      assertSameBytes(await client.pongs.next(5000, 'the pong on the ws side'), payload, 'pong payload seen by ws');
    }
    for (const payload of [Buffer.from([1, 2, 3, 0xff]), Buffer.alloc(0), randomBinary(125)]) {
      ws.ping(payload);
      assertSameBytes(await client.pings.next(5000, 'a ping on the ws side'), payload, 'ping payload seen by ws');
      assertSameBytes(await seen.pongs.next(5000, 'the pong on the wsforge side'), payload, 'pong payload seen by wsforge');
    }
    client.ws.close(1000);
    await client.waitForClose();
  });

  for (const { code, reason } of CLOSE_CASES) {
    test(`ws closes with ${code} and a reason: wsforge sees exactly that code and reason, and echoes the code`, async () => {
      const client = await openWsClient(`${server.url}close-from-ws-${code}`);
      const { ws, recorder: seen } = await server.connectionAt(`/close-from-ws-${code}`);
      client.ws.close(code, reason);
      assert.deepEqual(await seen.waitForClose(), { code, reason });
      assert.equal(ws.wasClean, true, 'wsforge: clean close');
      // RFC 6455 §5.5.1: the answering close frame echoes the status code.
      assert.equal((await client.waitForClose()).code, code);
    });

    test(`wsforge closes with ${code} and a reason: ws sees exactly that code and reason`, async () => {
      const client = await openWsClient(`${server.url}close-from-wsforge-${code}`);
      const { ws, recorder: seen } = await server.connectionAt(`/close-from-wsforge-${code}`);
      ws.close(code, reason);
      assert.deepEqual(await client.waitForClose(), { code, reason });
      assert.equal((await seen.waitForClose()).code, code, 'wsforge sees the code ws echoed');
      assert.equal(ws.wasClean, true, 'wsforge: clean close');
    });
  }

  test('subprotocol: ws offers chat.v1, chat.v2; wsforge picks its preferred chat.v2 and both sides agree', async () => {
    const client = await openWsClient(`${server.url}subprotocol`, ['chat.v1', 'chat.v2']);
    const { ws, request } = await server.connectionAt('/subprotocol');
    assert.deepEqual(request.protocols, ['chat.v1', 'chat.v2']);
    assert.equal(client.ws.protocol, 'chat.v2');
    assert.equal(ws.protocol, 'chat.v2');
    const single = await openWsClient(`${server.url}subprotocol-single`, 'chat.v1');
    assert.equal(single.ws.protocol, 'chat.v1');
    assert.equal((await server.connectionAt('/subprotocol-single')).ws.protocol, 'chat.v1');
    client.ws.close(1000);
    single.ws.close(1000);
    await Promise.all([client.waitForClose(), single.waitForClose()]);
  });

  test('invalid UTF-8 in a text frame from ws: wsforge closes with 1007', async () => {
    const client = await openWsClient(`${server.url}invalid-utf8`);
    const { recorder: seen } = await server.connectionAt('/invalid-utf8');
    // ws sends a Buffer with binary: false as a text frame without checking it.
    client.ws.send(Buffer.from([0x48, 0x69, 0xff, 0xfe]), { binary: false });
    assert.equal((await client.waitForClose()).code, 1007, 'close code ws receives');
    assert.equal((await seen.waitForClose()).code, 1007, "wsforge's close event");
    assert.equal(seen.messages.history.length, 0, 'no message delivered');
  });

  test('invalid UTF-8 in the first fragment of a text message: wsforge fails fast with 1007 (Autobahn 6.4)', async () => {
    const client = await openWsClient(`${server.url}invalid-utf8-fragment`);
    const { recorder: seen } = await server.connectionAt('/invalid-utf8-fragment');
    // 0xC0 never starts a valid sequence; the message is never finished.
    client.ws.send(Buffer.from([0x41, 0xc0, 0xaf]), { binary: false, fin: false });
    assert.equal((await client.waitForClose(3000)).code, 1007, 'close code ws receives');
    assert.equal((await seen.waitForClose()).code, 1007, "wsforge's close event");
  });
});

describe('ws client -> wsforge server attached to a node:http server', () => {
  let http: HttpServer;
  let wss: WebSocketServer;
  let port: number;
  before(async () => {
    http = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      response.end('plain http');
    });
    wss = new WebSocketServer({ path: '/ws' });
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    wss.attach(http);
    await withTimeout(new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve)), 5000, 'the http server to listen');
    port = (http.address() as AddressInfo).port;
  });
  after(async () => {
    await closeWsforgeServer(wss);
    http.closeAllConnections();
    await withTimeout(new Promise<void>((resolve) => http.close(() => resolve())), 5000, 'the http server to close').catch(() => {});
  });

  test('plain HTTP requests stay with the http server', async () => {
    const body = await withTimeout(
      new Promise<string>((resolve, reject) => {
        httpGet(`http://127.0.0.1:${port}/hello`, (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve(`${response.statusCode} ${text}`));
        }).on('error', reject);
      }),
      5000,
      'the plain HTTP response',
    );
    assert.equal(body, '200 plain http');
  });

  test('echo of text and binary, a ping, then close 4000 with a reason seen by the server', async () => {
    const seen = new Promise<[number, string]>((resolve) =>
      wss.once('connection', (ws) => ws.once('close', (code, reason) => resolve([code, reason]))),
    );
    const client = await openWsClient(`ws://127.0.0.1:${port}/ws`);
    client.ws.send('over http');
    const binary = randomBinary(100_000);
    client.ws.send(binary);
    const text = await client.nextMessage();
    assert.deepEqual([text.isBinary, text.data.toString()], [false, 'over http']);
    const echoed = await client.nextMessage();
    assert.equal(echoed.isBinary, true);
    assertSameBytes(echoed.data, binary, 'binary echo over the attached server');
    client.ws.ping('attached');
    assert.equal((await client.pongs.next(5000)).toString(), 'attached');
    client.ws.close(4000, 'attached bye');
    assert.deepEqual(await withTimeout(seen, 5000, 'the server-side close'), [4000, 'attached bye']);
    assert.equal((await client.waitForClose()).code, 4000);
  });

  test('a path other than /ws is refused with 404', async () => {
    await assert.rejects(openWsClient(`ws://127.0.0.1:${port}/elsewhere`), /HTTP 404/);
  });

  test('wss.close() closes an open ws client with 1001', async () => {
    const client = await openWsClient(`ws://127.0.0.1:${port}/ws`);
    await withTimeout(wss.close(), 8000, 'wss.close()');
    const closed = await client.waitForClose();
    assert.equal(closed.code, 1001);
  });
});

describe('wsforge client (connect) -> ws server', () => {
  let server: WsServer;
  before(async () => {
    server = await startWsServer({
      handleProtocols: (protocols) => (protocols.has('chat.v2') ? 'chat.v2' : protocols.has('chat.v1') ? 'chat.v1' : false),
    });
  });
  after(() => server.close());

  const open = async (path: string, options: Parameters<typeof connect>[1] = {}) => {
    const ws = await connect(`${server.url}${path}`, { handshakeTimeout: 5000, ...options });
    return new WsforgeRecorder(ws);
  };

  test('text, non-ASCII text, binary, empty text and empty binary arrive and echo back with their type', async () => {
    const client = await open('messages');
    const { recorder: seen } = await server.connectionAt('/messages');
    for (const sample of SAMPLES) client.ws.send(payloadOf(sample), { binary: sample.isBinary });
    for (const sample of SAMPLES) {
      const got = await seen.nextMessage(5000, `the ${sample.label} on the ws server`);
      assert.equal(got.isBinary, sample.isBinary, `${sample.label}: type seen by ws`);
      assertSameBytes(got.data, sample.data, `${sample.label} seen by ws`);
    }
    for (const sample of SAMPLES) {
      const echoed = await client.nextMessage(5000, `the ${sample.label} echo on the wsforge client`);
      assert.equal(echoed.isBinary, sample.isBinary, `${sample.label}: type of the echo seen by wsforge`);
      assertSameBytes(echoed.data, sample.data, `${sample.label} echo seen by wsforge`);
    }
    assert.equal(client.texts[1], 'héllo wörld ✓ 𝄞 🚀 日本語', 'text is delivered as a string');
    client.ws.close(1000);
    assert.equal((await seen.waitForClose()).code, 1000);
    assert.equal((await client.waitForClose()).code, 1000);
  });

  test('1 MiB text and 16 MiB binary arrive whole and echo back', async () => {
    const client = await open('large');
    const { recorder: seen } = await server.connectionAt('/large');
    const text = Buffer.from(jsonLikeText(1024 * 1024, 7));
    const binary = randomBinary(16 * 1024 * 1024);
    client.ws.send(text.toString('utf8'));
    client.ws.send(binary);
    const gotText = await seen.nextMessage(15_000);
    assert.equal(gotText.isBinary, false);
    assertSameBytes(gotText.data, text, '1 MiB text seen by ws');
    const gotBinary = await seen.nextMessage(15_000);
    assert.equal(gotBinary.isBinary, true);
    assertSameBytes(gotBinary.data, binary, '16 MiB binary seen by ws');
    const echoText = await client.nextMessage(15_000, 'the 1 MiB text echo');
    assert.equal(echoText.isBinary, false);
    assertSameBytes(echoText.data, text, '1 MiB text echo seen by wsforge');
    const echoBinary = await client.nextMessage(15_000, 'the 16 MiB binary echo');
    assert.equal(echoBinary.isBinary, true);
    assertSameBytes(echoBinary.data, binary, '16 MiB binary echo seen by wsforge');
    client.ws.close(1000);
    await client.waitForClose();
  });

  test('fragments from ws (fin: false) arrive at wsforge as one message; wsforge sendStream arrives at ws as one', async () => {
    const client = await open('fragments', { observeFrames: true });
    const { ws, recorder: seen } = await server.connectionAt('/fragments');
    ws.send('one ', { fin: false });
    ws.send('two ', { fin: false });
    ws.send('three', { fin: true });
    const text = await client.nextMessage(5000, 'the fragmented text from ws');
    assert.equal(text.isBinary, false);
    assert.equal(text.data.toString(), 'one two three');
    assert.deepEqual(
      dataFrames(client).map((f) => [f.opcode, f.fin]),
      [
        [Opcode.TEXT, false],
        [Opcode.CONTINUATION, false],
        [Opcode.CONTINUATION, true],
      ],
      'wsforge saw three frames on the wire',
    );
    // Echo is on: the ws server sends back what wsforge streams, so check both.
    await withTimeout(client.ws.sendStream(['a-', 'b-', 'c'], { binary: false }), 5000, 'sendStream (text)');
    const streamed = await seen.nextMessage(5000, 'the streamed text on the ws server');
    assert.deepEqual([streamed.isBinary, streamed.data.toString()], [false, 'a-b-c']);
    const big = randomBinary(4 * 1024 * 1024 + 17);
    await withTimeout(client.ws.sendStream(chunksOf(big, 100_000), { binary: true }), 10_000, 'sendStream (4 MiB binary)');
    const streamedBinary = await seen.nextMessage(10_000, 'the streamed binary on the ws server');
    assert.equal(streamedBinary.isBinary, true);
    assertSameBytes(streamedBinary.data, big, 'streamed binary seen by ws');
    client.ws.close(1000);
    await client.waitForClose();
  });

  test('ping/pong with payloads both ways (wsforge pings ws, ws pings wsforge)', async () => {
    const client = await open('ping');
    const { ws, recorder: seen } = await server.connectionAt('/ping');
    for (const payload of [Buffer.from('ping from wsforge'), Buffer.alloc(0), randomBinary(125)]) {
      client.ws.ping(payload);
      assertSameBytes(await seen.pings.next(5000, 'a ping on the ws side'), payload, 'ping payload seen by ws');
      assertSameBytes(await client.pongs.next(5000, 'the pong on the wsforge side'), payload, 'pong payload seen by wsforge');
    }
    for (const payload of [Buffer.from('ping from ws ✓'), Buffer.alloc(0), randomBinary(125)]) {
      ws.ping(payload);
      assertSameBytes(await client.pings.next(5000, 'a ping on the wsforge side'), payload, 'ping payload seen by wsforge');
      assertSameBytes(await seen.pongs.next(5000, 'the pong on the ws side'), payload, 'pong payload seen by ws');
    }
    client.ws.close(1000);
    await client.waitForClose();
  });

  for (const { code, reason } of CLOSE_CASES) {
    test(`wsforge client closes with ${code} and a reason: the ws server sees exactly that code and reason`, async () => {
      const client = await open(`close-from-wsforge-${code}`);
      const { recorder: seen } = await server.connectionAt(`/close-from-wsforge-${code}`);
      client.ws.close(code, reason);
      assert.deepEqual(await seen.waitForClose(), { code, reason });
      // ws echoes both code and reason.
      assert.deepEqual(await client.waitForClose(), { code, reason });
      assert.equal(client.ws.wasClean, true, 'wsforge: clean close');
    });

    test(`ws server closes with ${code} and a reason: the wsforge client sees exactly that code and reason`, async () => {
      const client = await open(`close-from-ws-${code}`);
      const { ws, recorder: seen } = await server.connectionAt(`/close-from-ws-${code}`);
      ws.close(code, reason);
      assert.deepEqual(await client.waitForClose(), { code, reason });
      assert.equal(client.ws.wasClean, true, 'wsforge: clean close');
      assert.equal((await seen.waitForClose()).code, code, 'ws sees the code wsforge echoed');
    });
  }

  test('subprotocol: wsforge offers chat.v1, chat.v2; the ws server picks chat.v2 and both sides agree', async () => {
    const client = await open('subprotocol', { protocols: ['chat.v1', 'chat.v2'] });
    const { ws, headers } = await server.connectionAt('/subprotocol');
    assert.equal(headers['sec-websocket-protocol'], 'chat.v1, chat.v2');
    assert.equal(client.ws.protocol, 'chat.v2');
    assert.equal(ws.protocol, 'chat.v2');
    client.ws.close(1000);
    await client.waitForClose();
  });

  test('invalid UTF-8 in a text frame from the ws server: the wsforge client closes with 1007', async () => {
    const client = await open('invalid-utf8');
    const { ws, recorder: seen } = await server.connectionAt('/invalid-utf8');
    ws.send(Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80]), { binary: false });
    assert.equal((await seen.waitForClose()).code, 1007, 'close code the ws server receives');
    assert.equal((await client.waitForClose()).code, 1007, "the wsforge client's close event");
    assert.equal(client.messages.history.length, 0, 'no message delivered');
  });
});
