// Interop with Python's `websockets` (Debian's python3-websockets 10.4 under /usr/bin/python3):
// a Python client against a wsforge server, and a wsforge client against a Python server.
// The Python peers live in test/interop/peers/ and report on stdout, one JSON object a line.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { connect, Opcode, type WebSocket } from '../../src/index.js';
import { assertSameBytes, jsonLikeText, randomBinary, sha256 } from './byte-assertions.js';
import { echo, startWsforgeServer, WsforgeRecorder, type FrameSeen, type WsforgeServer } from './connection-recorders.js';
import { PeerProcess, peersSourceDir, requirePythonWebsockets, SYSTEM_PYTHON } from './peer-process.js';

interface Described {
  type: 'text' | 'binary';
  length: number;
  sha256: string;
}

interface StepRecord {
  step?: string;
  error?: string;
  done?: boolean;
  [key: string]: unknown;
}

/** Read the Python client's next record and check it is `name` (an {"error"} record fails the test with its text). */
async function step(peer: PeerProcess, name: string, ms = 15_000): Promise<StepRecord> {
  const record = await peer.nextJson<StepRecord>(ms, `the "${name}" record`);
  if (record.error !== undefined) assert.fail(`Python peer failed before "${name}": ${record.error}\n${peer.describe()}`);
  assert.equal(record.step, name, `expected the "${name}" record, got ${JSON.stringify(record).slice(0, 300)}`);
  return record;
}

/**
 * One message in several frames: the first carries the opcode without FIN, the rest are
 * continuations and only the last has FIN. (websockets sends each chunk of an iterable,
 * then an empty continuation frame with FIN, so the count varies.)
 */
function assertFragmented(frames: readonly FrameSeen[], opcode: number): void {
  const shape = JSON.stringify(frames.map((f) => [f.opcode, f.fin]));
  assert.ok(frames.length >= 3, `several frames expected, saw ${shape}`);
  assert.equal(frames[0]!.opcode, opcode, `first frame opcode: ${shape}`);
  assert.ok(frames.slice(1).every((f) => f.opcode === Opcode.CONTINUATION), `then continuations: ${shape}`);
  assert.deepEqual(
    frames.map((f) => f.fin),
    [...frames.slice(1).map(() => false), true],
    `only the last frame has FIN: ${shape}`,
  );
}

/** The commands the Python client sends; anything else is echoed. */
function pythonClientHandler(ws: WebSocket): void {
  ws.on('message', (data, isBinary) => {
    if (!isBinary && data === 'ping-me') return ws.ping('from-wsforge');
    if (!isBinary && data === 'stream-me') {
      ws.sendStream(['s1-', 's2-', 's3'], { binary: false }).catch(() => {});
      return;
    }
    if (!isBinary && data === 'close-me') return ws.close(4001, 'server says bye');
    echo(ws, data, isBinary);
  });
}

describe('Python websockets client -> wsforge server', () => {
  test('echo of text, binary, empty and 1 MiB messages, fragments both ways, ping both ways, close both ways', async (t) => {
    requirePythonWebsockets();
    const server: WsforgeServer = await startWsforgeServer({ protocols: ['chat'], observeFrames: true }, pythonClientHandler);
    t.after(() => server.close());
    const peer = new PeerProcess('python websockets client', SYSTEM_PYTHON, [
      join(peersSourceDir, 'python_client.py'),
      server.url,
      'basic',
      '--compression',
      'none',
    ]);
    t.after(() => peer.stop());

    const open = await step(peer, 'open');
    assert.equal(open['subprotocol'], 'chat');
    assert.deepEqual(open['extensions'], []);
    const { ws, recorder: seen } = await server.connectionAt('/');
    assert.equal(ws.protocol, 'chat');

    for (const name of ['text', 'binary', 'empty-text', 'empty-binary', 'large-binary', 'large-text']) {
      const record = await step(peer, name);
      const sent = record['sent'] as Described;
      assert.equal(record['same'], true, `${name}: the echo Python got equals what it sent`);
      assert.deepEqual(record['echoed'], sent, `${name}: echo type, length and hash`);
      const got = seen.messages.history.find((m) => sha256(m.data) === sent.sha256 && m.isBinary === (sent.type === 'binary'));
      assert.ok(got, `${name}: wsforge received a ${sent.type} message of ${sent.length} bytes with the same hash`);
    }
    assert.equal(seen.texts[0], 'hello from python ✓');

    const fragmentsOut = await step(peer, 'fragments-out');
    assert.equal(fragmentsOut['echoed'], 'frag-1 frag-2 frag-3');
    assertFragmented(
      seen.frames.filter((f) => f.opcode < 0x8 && !(f.opcode !== Opcode.CONTINUATION && f.fin)),
      Opcode.TEXT,
    );
    assert.equal((await step(peer, 'fragments-in'))['received'], 's1-s2-s3');

    assert.equal((await step(peer, 'ping'))['pong'], true);
    assertSameBytes(await seen.pings.next(5000), Buffer.from('py-ping \x00\xff', 'latin1'), 'ping payload seen by wsforge');

    const afterPing = await step(peer, 'after-ping');
    assert.equal(afterPing['same'], true);
    assert.equal((await seen.pongs.next(5000, "Python's pong")).toString(), 'from-wsforge');

    const closed = await step(peer, 'close');
    assert.equal(closed['code'], 4000, 'Python got the echoed close code');
    assert.deepEqual(await seen.waitForClose(), { code: 4000, reason: 'bye from python' });
    assert.equal(ws.wasClean, true);

    const byServer = await step(peer, 'closed-by-server');
    assert.deepEqual([byServer['code'], byServer['reason']], [4001, 'server says bye'], 'what Python received');
    const second = await server.connectionAt('/server-close');
    assert.equal((await second.recorder.waitForClose()).code, 4001);

    const done = await peer.nextJson<StepRecord>(10_000, 'the "done" record');
    assert.deepEqual(done, { done: true });
    assert.equal((await peer.waitForExit(10_000)).code, 0, peer.describe());
  });
});

interface ServerEvent {
  event: string;
  path?: string;
  port?: number;
  code?: number;
  reason?: string;
  type?: string;
  length?: number;
  sha256?: string;
  subprotocol?: string | null;
  extensions?: string[];
}

describe('wsforge client (connect) -> Python websockets server', () => {
  test('echo of text, binary, empty and 1 MiB messages, fragments both ways, ping both ways, close both ways', async (t) => {
    requirePythonWebsockets();
    const peer = new PeerProcess('python websockets server', SYSTEM_PYTHON, [join(peersSourceDir, 'python_server.py'), '--compression', 'none']);
    t.after(() => peer.stop());
    const { port } = await peer.waitForJson<ServerEvent>((e) => e.event === 'listening', 10_000, 'the listening record');
    const base = `ws://127.0.0.1:${port!}`;
    const event = (match: (e: ServerEvent) => boolean, what: string) => peer.waitForJson<ServerEvent>(match, 10_000, what);

    const client = new WsforgeRecorder(await connect(`${base}/echo`, { protocols: ['chat'], observeFrames: true, handshakeTimeout: 5000 }));
    t.after(() => client.ws.terminate());
    assert.equal(client.ws.protocol, 'chat');
    const connection = await event((e) => e.event === 'connection' && e.path === '/echo', 'the connection record');
    assert.equal(connection.subprotocol, 'chat');

    const samples: Array<{ label: string; data: Buffer; isBinary: boolean }> = [
      { label: 'text', data: Buffer.from('hello from wsforge ✓'), isBinary: false },
      { label: 'binary', data: Buffer.from([0, 1, 2, 0x80, 0xff]), isBinary: true },
      { label: 'empty text', data: Buffer.alloc(0), isBinary: false },
      { label: 'empty binary', data: Buffer.alloc(0), isBinary: true },
      { label: '1 MiB binary', data: randomBinary(1024 * 1024), isBinary: true },
      { label: '1 MiB text', data: Buffer.from(jsonLikeText(1024 * 1024, 11)), isBinary: false },
    ];
    for (const sample of samples) {
      client.ws.send(sample.isBinary ? sample.data : sample.data.toString('utf8'), { binary: sample.isBinary });
      const echoed = await client.nextMessage(10_000, `the ${sample.label} echo`);
      assert.equal(echoed.isBinary, sample.isBinary, `${sample.label}: type of the echo`);
      assertSameBytes(echoed.data, sample.data, `${sample.label} echo`);
      const hash = sha256(sample.data);
      const type = sample.isBinary ? 'binary' : 'text';
      const seen = await event((e) => e.event === 'message' && e.sha256 === hash && e.type === type, `Python's record of the ${sample.label} (${type})`);
      assert.equal(seen.length, sample.data.length);
    }

    // wsforge -> Python, fragmented; Python echoes it whole.
    await client.ws.sendStream(['a-', 'b-', 'c'], { binary: false });
    assert.equal((await client.nextMessage()).data.toString(), 'a-b-c');
    await event((e) => e.event === 'message' && e.sha256 === sha256(Buffer.from('a-b-c')) && e.type === 'text', "Python's record of a-b-c");

    // Python -> wsforge, fragmented.
    client.frames.length = 0;
    client.ws.send('fragments-please');
    const fragmented = await client.nextMessage(5000, 'the fragmented message from Python');
    assert.deepEqual([fragmented.isBinary, fragmented.data.toString()], [false, 'p1-p2-p3']);
    assertFragmented(client.frames.filter((f) => f.opcode < 0x8), Opcode.TEXT);

    client.ws.ping('wsforge-ping');
    assert.equal((await client.pongs.next(5000)).toString(), 'wsforge-ping');
    client.ws.send('ping-me');
    assert.equal((await client.pings.next(5000, "Python's ping")).toString(), 'from-python');
    await event((e) => e.event === 'pong' && e.path === '/echo', "Python's record of the pong");

    client.ws.close(4000, 'bye from wsforge');
    assert.equal((await client.waitForClose()).code, 4000, 'the code Python echoed');
    assert.equal(client.ws.wasClean, true);
    const closed = await event((e) => e.event === 'closed' && e.path === '/echo', "Python's close record");
    assert.deepEqual([closed.code, closed.reason], [4000, 'bye from wsforge']);

    const second = new WsforgeRecorder(await connect(`${base}/server-close`, { handshakeTimeout: 5000 }));
    t.after(() => second.ws.terminate());
    second.ws.send('close-me:4002:python says bye ✓');
    assert.deepEqual(await second.waitForClose(), { code: 4002, reason: 'python says bye ✓' });
    assert.equal(second.ws.wasClean, true);
    const secondClosed = await event((e) => e.event === 'closed' && e.path === '/server-close', "Python's second close record");
    assert.equal(secondClosed.code, 4002);
  });
});
