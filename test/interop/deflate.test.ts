// permessage-deflate (RFC 7692) interop: wsforge against `ws`, Python `websockets` and
// Chromium, in both roles. Messages of 10 B, 2 KiB, 64 KiB and 1 MiB, compressible JSON-like
// text and random binary, sent in sequence and then again, so a shared (taken-over) context
// is exercised. Compression is checked on the wire: RSV1 on received frames, and bytes read
// from the socket for what wsforge sends.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { connect, type PerMessageDeflateOptions, type WebSocket } from '../../src/index.js';
import { type EventQueue } from './bounded-wait.js';
import { assertSameBytes, jsonLikeText, randomBinary, sha256 } from './byte-assertions.js';
import {
  demoHex,
  launchChromium,
  runPageScenario,
  startCliServer,
  streamedTextChunks,
  waitForLogLine,
  type ChromiumSession,
} from './chromium-peer.js';
import {
  echoOrStream,
  openWsClient,
  startWsforgeServer,
  startWsServer,
  WsforgeRecorder,
  type FrameSeen,
  type ReceivedMessage,
} from './connection-recorders.js';
import { PeerProcess, peersSourceDir, requirePythonWebsockets, SYSTEM_PYTHON } from './peer-process.js';

const SIZES = [10, 2048, 64 * 1024, 1024 * 1024] as const;
/** ws compresses every message of at least this many bytes (its default threshold; below it, only with context takeover). */
const WS_THRESHOLD = 1024;

/** ws sends each message as one frame: the frame of every message at or above the threshold has RSV1. */
function assertCompressedAtThreshold(frames: readonly FrameSeen[], list: readonly Sample[], what: string): void {
  const data = frames.filter((f) => f.opcode < 0x8);
  assert.equal(data.length, list.length, `${what}: one frame per message`);
  const missing = list.filter((s, i) => s.data.length >= WS_THRESHOLD && !data[i]!.rsv1).map((s) => s.label);
  assert.deepEqual(missing, [], `${what}: messages of ${WS_THRESHOLD} bytes or more arrive compressed (RSV1)`);
}
const TAKEOVER: PerMessageDeflateOptions = { serverNoContextTakeover: false, clientNoContextTakeover: false };

interface Sample {
  label: string;
  data: Buffer;
  isBinary: boolean;
}

/** Each size as text and as binary, then the same messages again (a taken-over window holds the first round). */
function samples(): Sample[] {
  const round: Sample[] = [];
  for (const size of SIZES) {
    round.push({ label: `${size} B JSON-like text`, data: Buffer.from(jsonLikeText(size, size)), isBinary: false });
    round.push({ label: `${size} B random binary`, data: randomBinary(size), isBinary: true });
  }
  return [...round, ...round.map((s) => ({ ...s, label: `${s.label} (again)` }))];
}

const payloadOf = (s: Sample): string | Buffer => (s.isBinary ? s.data : s.data.toString('utf8'));

/**
 * Send every sample at once (pipelined: compression must keep the order), then check what
 * the other side received and what came back, in order.
 */
async function exchange(
  list: readonly Sample[],
  send: (s: Sample) => void,
  received: EventQueue<ReceivedMessage>,
  echoes: EventQueue<ReceivedMessage>,
  sides: { sender: string; receiver: string },
): Promise<void> {
  for (const s of list) send(s);
  for (const s of list) {
    const got = await received.next(20_000, `the ${s.label} at the ${sides.receiver}`);
    assert.equal(got.isBinary, s.isBinary, `${s.label}: type at the ${sides.receiver}`);
    assertSameBytes(got.data, s.data, `${s.label} at the ${sides.receiver}`);
  }
  for (const s of list) {
    const got = await echoes.next(20_000, `the echo of the ${s.label} at the ${sides.sender}`);
    assert.equal(got.isBinary, s.isBinary, `${s.label}: type of the echo at the ${sides.sender}`);
    assertSameBytes(got.data, s.data, `echo of the ${s.label} at the ${sides.sender}`);
  }
}

/** Bytes `socket` read while `action` ran. */
async function bytesReadDuring(socket: Socket, action: () => Promise<void>): Promise<number> {
  const before = socket.bytesRead;
  await action();
  return socket.bytesRead - before;
}

const ONE_MIB_JSON = Buffer.from(jsonLikeText(1024 * 1024, 99));
/** 1 MiB of JSON-like text deflates far below this (about 10x smaller); uncompressed it is 1 MiB. */
const COMPRESSED_1MIB_LIMIT = 256 * 1024;
/** A 2 KiB message repeated with a taken-over window costs a few back-references; alone it deflates to several hundred bytes. */
const REPEAT_AVERAGE_LIMIT = 100;

describe('permessage-deflate: ws client -> wsforge server', () => {
  for (const [name, deflate] of [
    ['defaults (no context takeover)', true],
    ['context takeover both ways', TAKEOVER],
  ] as const) {
    test(`${name}: negotiated on both sides; 10 B-1 MiB text and binary twice in sequence; compressed both ways`, async (t) => {
      const server = await startWsforgeServer({ perMessageDeflate: deflate, observeFrames: true });
      t.after(() => server.close());
      const client = await openWsClient(`${server.url}deflate`, undefined, { perMessageDeflate: true });
      const { ws, recorder: seen } = await server.connectionAt('/deflate');
      assert.match(ws.extensions, /^permessage-deflate(;|$)/, 'wsforge ws.extensions');
      assert.match(String(client.ws.extensions), /permessage-deflate/, 'ws extensions');
      if (deflate === TAKEOVER) assert.doesNotMatch(ws.extensions, /no_context_takeover/, 'takeover was asked for');

      const list = samples();
      await exchange(list, (s) => client.ws.send(payloadOf(s), { binary: s.isBinary }), seen.messages, client.messages, {
        sender: 'ws client',
        receiver: 'wsforge server',
      });
      assertCompressedAtThreshold(seen.frames, list, 'frames wsforge received from ws');
      // What wsforge sends is compressed: 1 MiB of JSON-like text costs far less on the wire.
      const socket = client.socket;
      assert.ok(socket !== null, 'the ws client socket');
      const wire = await bytesReadDuring(socket, async () => {
        client.ws.send(ONE_MIB_JSON.toString('utf8'));
        assertSameBytes((await client.nextMessage(10_000)).data, ONE_MIB_JSON, '1 MiB JSON echo');
      });
      assert.ok(wire < COMPRESSED_1MIB_LIMIT, `the 1 MiB JSON echo took ${wire} bytes on the wire`);

      if (deflate === TAKEOVER) {
        const repeated = Buffer.from(jsonLikeText(2048, 5)).toString('utf8');
        client.ws.send(repeated);
        await client.nextMessage();
        const wireRepeats = await bytesReadDuring(socket, async () => {
          for (let i = 0; i < 20; i++) client.ws.send(repeated);
          for (let i = 0; i < 20; i++) assert.equal((await client.nextMessage()).data.toString('utf8'), repeated);
        });
        assert.ok(wireRepeats / 20 < REPEAT_AVERAGE_LIMIT, `with context takeover a repeated 2 KiB message took ${wireRepeats / 20} bytes on average`);
      }
      client.ws.close(1000, 'done');
      assert.deepEqual(await seen.waitForClose(), { code: 1000, reason: 'done' });
      assert.equal((await client.waitForClose()).code, 1000);
    });
  }
});

describe('permessage-deflate: wsforge client -> ws server', () => {
  test('ws server defaults (context takeover allowed): 10 B-1 MiB text and binary twice in sequence; compressed both ways', async (t) => {
    const server = await startWsServer({ perMessageDeflate: true });
    t.after(() => server.close());
    const client = new WsforgeRecorder(await connect(`${server.url}deflate`, { perMessageDeflate: true, observeFrames: true, handshakeTimeout: 5000 }));
    t.after(() => client.ws.terminate());
    const { ws, recorder: seen, socket } = await server.connectionAt('/deflate');
    assert.match(client.ws.extensions, /^permessage-deflate(;|$)/, 'wsforge ws.extensions');
    assert.match(ws.extensions, /permessage-deflate/, 'ws extensions');

    const list = samples();
    await exchange(list, (s) => client.ws.send(payloadOf(s), { binary: s.isBinary }), seen.messages, client.messages, {
      sender: 'wsforge client',
      receiver: 'ws server',
    });
    assertCompressedAtThreshold(client.frames, list, 'frames wsforge received from ws');
    const wire = await bytesReadDuring(socket, async () => {
      client.ws.send(ONE_MIB_JSON.toString('utf8'));
      assertSameBytes((await seen.nextMessage(10_000)).data, ONE_MIB_JSON, '1 MiB JSON at the ws server');
    });
    assert.ok(wire < COMPRESSED_1MIB_LIMIT, `wsforge sent 1 MiB of JSON-like text as ${wire} bytes`);
    await client.nextMessage(10_000);

    const repeated = Buffer.from(jsonLikeText(2048, 5)).toString('utf8');
    client.ws.send(repeated);
    await seen.nextMessage();
    const wireRepeats = await bytesReadDuring(socket, async () => {
      for (let i = 0; i < 20; i++) client.ws.send(repeated);
      for (let i = 0; i < 20; i++) assert.equal((await seen.nextMessage()).data.toString('utf8'), repeated);
    });
    assert.ok(wireRepeats / 20 < REPEAT_AVERAGE_LIMIT, `with context takeover wsforge sent a repeated 2 KiB message as ${wireRepeats / 20} bytes on average`);
    // Take every echo before closing (closing while one is still inflating is a test of its own below).
    for (let i = 0; i < 21; i++) assert.equal((await client.nextMessage()).data.toString('utf8'), repeated);
    client.ws.close(1000, 'done');
    assert.deepEqual(await seen.waitForClose(), { code: 1000, reason: 'done' });
    assert.equal((await client.waitForClose()).code, 1000);
  });

  test('ws server asks for 10-bit windows and no context takeover: wsforge honours them; messages round-trip', async (t) => {
    const server = await startWsServer({
      perMessageDeflate: { serverMaxWindowBits: 10, clientMaxWindowBits: 10, serverNoContextTakeover: true, clientNoContextTakeover: true },
    });
    t.after(() => server.close());
    const client = new WsforgeRecorder(await connect(`${server.url}small-window`, { perMessageDeflate: true, handshakeTimeout: 5000 }));
    t.after(() => client.ws.terminate());
    const { recorder: seen, socket } = await server.connectionAt('/small-window');
    const ext = client.ws.extensions;
    assert.match(ext, /^permessage-deflate/);
    assert.match(ext, /server_max_window_bits=10/, ext);
    assert.match(ext, /client_max_window_bits=10/, ext);
    assert.match(ext, /server_no_context_takeover/, ext);
    assert.match(ext, /client_no_context_takeover/, ext);
    await exchange(samples(), (s) => client.ws.send(payloadOf(s), { binary: s.isBinary }), seen.messages, client.messages, {
      sender: 'wsforge client',
      receiver: 'ws server',
    });
    const wire = await bytesReadDuring(socket, async () => {
      client.ws.send(ONE_MIB_JSON.toString('utf8'));
      assertSameBytes((await seen.nextMessage(10_000)).data, ONE_MIB_JSON, '1 MiB JSON at the ws server');
    });
    assert.ok(wire < COMPRESSED_1MIB_LIMIT, `wsforge sent 1 MiB of JSON-like text as ${wire} bytes with a 10-bit window`);
    assertSameBytes((await client.nextMessage(10_000)).data, ONE_MIB_JSON, '1 MiB JSON echo (10-bit window)');
    client.ws.close(1000);
    assert.equal((await client.waitForClose()).code, 1000);
  });
});

interface StepRecord {
  step?: string;
  error?: string;
  done?: boolean;
  [key: string]: unknown;
}

/** websockets compresses every message it sends: the first frame of each of the 16 messages has RSV1. */
function assertPythonCompressed(frames: readonly FrameSeen[]): void {
  const first = frames.filter((f) => f.opcode === 0x1 || f.opcode === 0x2);
  const compressed = first.filter((f) => f.rsv1).length;
  assert.ok(compressed >= 16, `RSV1 on ${compressed} of the ${first.length} messages from Python (expected all 16 or more)`);
}

describe('permessage-deflate: Python websockets', () => {
  for (const [name, deflate] of [
    ['defaults (no context takeover)', true],
    ['context takeover both ways', TAKEOVER],
  ] as const) {
    test(`Python client (compression="deflate") -> wsforge server, ${name}: 10 B-1 MiB messages twice, echoed`, async (t) => {
      requirePythonWebsockets();
      const server = await startWsforgeServer({ perMessageDeflate: deflate, observeFrames: true });
      t.after(() => server.close());
      const peer = new PeerProcess('python websockets client (deflate)', SYSTEM_PYTHON, [
        join(peersSourceDir, 'python_client.py'),
        server.url,
        'deflate',
        '--compression',
        'deflate',
      ]);
      t.after(() => peer.stop());
      const next = async (what: string): Promise<StepRecord> => {
        const record = await peer.nextJson<StepRecord>(20_000, what);
        if (record.error !== undefined) assert.fail(`Python peer failed before ${what}: ${record.error}\n${peer.describe()}`);
        return record;
      };
      const open = await next('the open record');
      assert.deepEqual(open['extensions'], ['permessage-deflate'], `Python negotiated: ${String(open['response_extensions'])}`);
      const { ws, recorder: seen } = await server.connectionAt('/');
      assert.match(ws.extensions, /^permessage-deflate(;|$)/);
      for (const round of [1, 2]) {
        for (const size of SIZES) {
          for (const kind of ['text', 'binary']) {
            const record = await next(`the ${kind} ${size} B echo (round ${round})`);
            assert.equal(record.step, `deflate-${kind}-${round}-${size}`);
            assert.equal(record['same'], true, `${String(record.step)}: the echo equals what Python sent`);
            const sent = record['sent'] as { sha256: string; type: string };
            assert.ok(
              seen.messages.history.some((m) => m.isBinary === (kind === 'binary') && sha256(m.data) === sent.sha256),
              `${String(record.step)}: wsforge received the same bytes`,
            );
          }
        }
      }
      assertPythonCompressed(seen.frames);
      const closed = await next('the close record');
      assert.equal(closed['code'], 1000);
      assert.deepEqual(await seen.waitForClose(), { code: 1000, reason: 'done' });
      assert.deepEqual(await next('the done record'), { done: true });
    });
  }

  test('wsforge client -> Python server (compression="deflate", 12-bit windows): 10 B-1 MiB messages twice, echoed', async (t) => {
    requirePythonWebsockets();
    const peer = new PeerProcess('python websockets server (deflate)', SYSTEM_PYTHON, [
      join(peersSourceDir, 'python_server.py'),
      '--compression',
      'deflate',
    ]);
    t.after(() => peer.stop());
    const { port } = await peer.waitForJson<{ event: string; port: number }>((e) => e.event === 'listening', 10_000, 'the listening record');
    const client = new WsforgeRecorder(
      await connect(`ws://127.0.0.1:${port}/deflate`, { perMessageDeflate: true, observeFrames: true, handshakeTimeout: 5000 }),
    );
    t.after(() => client.ws.terminate());
    const connection = await peer.waitForJson<{ event: string; path: string; extensions: string[]; response_extensions: string }>(
      (e) => e.event === 'connection' && e.path === '/deflate',
      10_000,
      'the connection record',
    );
    assert.deepEqual(connection.extensions, ['permessage-deflate'], `Python answered: ${connection.response_extensions}`);
    assert.match(client.ws.extensions, /^permessage-deflate/);
    // websockets' server defaults (10.x): 12-bit windows both ways.
    assert.match(client.ws.extensions, /client_max_window_bits=12/, client.ws.extensions);
    for (const s of samples()) {
      client.ws.send(payloadOf(s), { binary: s.isBinary });
      const got = await client.nextMessage(20_000, `the echo of the ${s.label}`);
      assert.equal(got.isBinary, s.isBinary, `${s.label}: type of the echo`);
      assertSameBytes(got.data, s.data, `echo of the ${s.label}`);
      const hash = sha256(s.data);
      await peer.waitForJson<{ event: string; sha256: string; type: string }>(
        (e) => e.event === 'message' && e.sha256 === hash && e.type === (s.isBinary ? 'binary' : 'text'),
        10_000,
        `Python's record of the ${s.label}`,
      );
    }
    assertPythonCompressed(client.frames);
    client.ws.close(1000, 'done');
    assert.equal((await client.waitForClose()).code, 1000);
    const closed = await peer.waitForJson<{ event: string; path: string; code: number; reason: string }>(
      (e) => e.event === 'closed' && e.path === '/deflate',
      10_000,
      "Python's close record",
    );
    assert.deepEqual([closed.code, closed.reason], [1000, 'done']);
  });
});

describe('permessage-deflate: Chromium', () => {
  let chromium: Promise<ChromiumSession> | null = null;
  const browser = () => (chromium ??= launchChromium());
  after(async () => {
    if (chromium !== null) await (await chromium.catch(() => null))?.close();
  });

  test('demo page against `wsforge serve --deflate`: negotiated, text and binary echo, close 4000; direct WebSocket shows permessage-deflate in ws.extensions', async (t) => {
    const session = await browser();
    const server = await startCliServer(['--deflate']);
    t.after(() => server.peer.stop());
    const page = await session.newPage();
    t.after(() => page.close().catch(() => {}));
    await page.goto(server.httpUrl);
    const connection = await server.peer.waitForLine(/^connection \d+ from /, 10_000, 'the "connection N from" log line');
    assert.match(connection, /extensions permessage-deflate/, `the server log shows the negotiated extension: ${connection}`);
    const id = /^connection (\d+) /.exec(connection)![1];
    await waitForLogLine(page, 'connected');

    const text = `compress me ${'{"a":1,"b":[true,false]} '.repeat(100)}`;
    await page.fill('#message', text);
    await page.click('#send');
    await waitForLogLine(page, `< text: ${text}`);
    const bytes = Buffer.from('deflate ✓', 'utf8');
    await page.fill('#message', 'deflate ✓');
    await page.click('#send-binary');
    await waitForLogLine(page, `< binary (${bytes.length} bytes): ${demoHex(bytes)}`);
    await page.fill('#close-code', '4000');
    await page.fill('#close-reason', 'deflate bye');
    await page.click('#close');
    // The page shows the code and reason of the close frame the server answered with (RFC 6455 §5.5.1: an echo).
    assert.equal(await waitForLogLine(page, /^closed: /), 'closed: code 4000, reason "deflate bye" (clean)');
    await server.peer.waitForLine((line) => line === `close ${id} 4000 "deflate bye"`, 5000, `close ${id} 4000 "deflate bye"`);

    const result = await runPageScenario(page, { url: server.wsUrl, requestStream: false });
    assert.equal(result.error, null, `the page reported: ${result.error}`);
    assert.match(result.extensions ?? '', /permessage-deflate/, `ws.extensions in the page: ${result.extensions}`);
    assert.deepEqual(result.binary, { length: 1 << 20, same: true });
    assert.equal(result.largeText?.same, true, 'large text echo');
    assert.deepEqual(result.smallText, { same: true });
    assert.equal(result.close?.code, 1000);
  });

  test('direct WebSocket against a wsforge server with context takeover: Chromium compresses (RSV1), echoes and a fragmented text arrive whole', async (t) => {
    const session = await browser();
    const { text: streamed, chunks } = streamedTextChunks();
    const extensionsAtOpen: string[] = [];
    const server = await startWsforgeServer(
      { perMessageDeflate: TAKEOVER, observeFrames: true },
      (ws: WebSocket) => {
        extensionsAtOpen.push(ws.extensions);
        echoOrStream(chunks)(ws);
      },
      { http: true },
    );
    t.after(() => server.close());
    const page = await session.newPage();
    t.after(() => page.close().catch(() => {}));
    await page.goto(server.httpUrl);
    const result = await runPageScenario(page, { url: `${server.url}deflate`, requestStream: true });
    assert.equal(result.error, null, `the page reported: ${result.error}`);
    assert.match(result.extensions ?? '', /permessage-deflate/, `ws.extensions in the page: ${result.extensions}`);
    assert.deepEqual(result.binary, { length: 1 << 20, same: true }, '1 MiB binary echo');
    assert.equal(result.largeText?.same, true, 'large text echo');
    assert.deepEqual(result.smallText, { same: true });
    assert.ok(result.streamedText === streamed, `fragmented text (${result.streamedText?.length} of ${streamed.length} chars)`);
    assert.equal(result.close?.code, 1000);
    const { recorder: seen } = await server.connectionAt('/deflate');
    assert.equal(extensionsAtOpen.length, 1);
    assert.match(extensionsAtOpen[0]!, /^permessage-deflate/, 'wsforge ws.extensions when the connection opened');
    assert.doesNotMatch(extensionsAtOpen[0]!, /no_context_takeover/);
    assert.ok(
      seen.frames.some((f) => f.rsv1),
      `Chromium sent compressed frames: ${JSON.stringify(seen.frames.slice(0, 10))}`,
    );
    assert.equal((await seen.waitForClose()).code, 1000);
  });
});

describe('permessage-deflate: closing while a compressed message is on its way', () => {
  test('wsforge client closes while the ws server is sending it a compressed 1 MiB message: a clean close with the code and reason ws answered', async (t) => {
    const server = await startWsServer({ perMessageDeflate: true }, false);
    t.after(() => server.close());
    const client = new WsforgeRecorder(await connect(`${server.url}close-while-inflating`, { perMessageDeflate: true, handshakeTimeout: 5000 }));
    t.after(() => client.ws.terminate());
    const { ws, recorder: seen } = await server.connectionAt('/close-while-inflating');
    // The server's compressed message is in flight (being inflated by wsforge) when wsforge's close goes out.
    ws.on('message', () => {
      ws.send(ONE_MIB_JSON.toString('utf8'));
      client.ws.close(1000, 'bye');
    });
    client.ws.send('go');
    assert.deepEqual(await seen.waitForClose(), { code: 1000, reason: 'bye' }, 'the ws server got a clean close');
    assert.deepEqual(await client.waitForClose(), { code: 1000, reason: 'bye' }, "the wsforge client's close event: ws answered 1000 \"bye\"");
    assert.equal(client.ws.wasClean, true, 'both close frames were exchanged');
  });

  test('wsforge server closes while a ws client is sending it compressed 1 MiB and 8 MiB messages: a clean close with the code and reason ws answered', async (t) => {
    let messages = 0;
    const server = await startWsforgeServer({ perMessageDeflate: true }, (ws) => {
      ws.on('message', () => {
        messages++;
        // The second message is still arriving (and being inflated) when the close goes out.
        if (messages === 1) ws.close(1000, 'server bye');
      });
    });
    t.after(() => server.close());
    const client = await openWsClient(`${server.url}close-while-inflating`, undefined, { perMessageDeflate: true });
    const { ws, recorder: seen } = await server.connectionAt('/close-while-inflating');
    client.ws.send(ONE_MIB_JSON.toString('utf8'));
    // 8 MiB: its inflate takes long enough that ws's answer to the close arrives meanwhile.
    client.ws.send(jsonLikeText(8 * 1024 * 1024, 1234));
    assert.deepEqual(await client.waitForClose(), { code: 1000, reason: 'server bye' }, 'the ws client got a clean close');
    assert.deepEqual(await seen.waitForClose(), { code: 1000, reason: 'server bye' }, "the wsforge server's close event: ws answered 1000 \"server bye\"");
    assert.equal(ws.wasClean, true, 'both close frames were exchanged');
  });
});

describe('permessage-deflate: ws.extensions', () => {
  test('still names the negotiated extension after the connection closed (as WHATWG WebSocket and ws do)', async (t) => {
    const server = await startWsforgeServer({ perMessageDeflate: true });
    t.after(() => server.close());
    const client = await openWsClient(`${server.url}extensions`, undefined, { perMessageDeflate: true });
    const { ws, recorder: seen } = await server.connectionAt('/extensions');
    const atOpen = ws.extensions;
    assert.match(atOpen, /^permessage-deflate/);
    const wsAtOpen = String(client.ws.extensions);
    client.ws.close(1000);
    await seen.waitForClose();
    await client.waitForClose();
    assert.equal(String(client.ws.extensions), wsAtOpen, 'ws keeps its value after close');
    assert.equal(ws.extensions, atOpen, 'wsforge server-side ws.extensions after close');

    const wsServer = await startWsServer({ perMessageDeflate: true });
    t.after(() => wsServer.close());
    const wsforgeClient = new WsforgeRecorder(await connect(`${wsServer.url}extensions`, { perMessageDeflate: true, handshakeTimeout: 5000 }));
    const clientAtOpen = wsforgeClient.ws.extensions;
    assert.match(clientAtOpen, /^permessage-deflate/);
    wsforgeClient.ws.close(1000);
    await wsforgeClient.waitForClose();
    assert.equal(wsforgeClient.ws.extensions, clientAtOpen, 'wsforge client-side ws.extensions after close');
  });
});
