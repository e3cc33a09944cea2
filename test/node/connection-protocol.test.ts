/**
 * The protocol over real loopback sockets: close codes on the wire, the closing handshake and
 * who closes TCP first (RFC 6455 §5, §7), fail-fast limits, and the 'close' event's code.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { connect, type ServerOptions } from '../../src/index.js';
import { startFakeServer, switchingProtocols } from '../helpers/fake-server.js';
import { guardProcess } from '../helpers/process-guard.js';
import { connectedPair, type ConnectedPair } from '../helpers/server-fixture.js';
import { delay, nextEvent, withTimeout } from '../helpers/timing.js';
import { clientFrame, closePayload, OP, readClose, serverFrame } from '../helpers/wire-frames.js';

guardProcess();

/** A wsforge server and one raw client connected to it. */
const pair = (t: TestContext, options: ServerOptions = {}): Promise<ConnectedPair> => connectedPair(t, options, 5000);

describe('failing the connection over TCP (RFC 6455 §7.1.7)', () => {
  const cases: Array<[string, Buffer[], number]> = [
    ['RSV1 without extension', [clientFrame({ opcode: OP.TEXT, rsv1: true, payload: 'x' })], 1002],
    ['RSV2 set', [clientFrame({ opcode: OP.BINARY, rsv2: true })], 1002],
    ['opcode 3', [clientFrame({ opcode: 3 })], 1002],
    ['opcode 15', [clientFrame({ opcode: 15 })], 1002],
    ['ping of 126 bytes', [clientFrame({ opcode: OP.PING, payload: Buffer.alloc(126) })], 1002],
    ['fragmented ping', [clientFrame({ opcode: OP.PING, fin: false, payload: 'x' })], 1002],
    ['continuation without a message', [clientFrame({ opcode: OP.CONTINUATION, payload: 'x' })], 1002],
    ['text frame inside a fragmented message', [clientFrame({ opcode: OP.TEXT, fin: false, payload: 'a' }), clientFrame({ opcode: OP.TEXT, payload: 'b' })], 1002],
    ['unmasked frame', [serverFrame({ opcode: OP.TEXT, payload: 'x' })], 1002],
    ['64-bit length with the top bit set', [clientFrame({ opcode: OP.BINARY, lengthBits: 64, declaredLength: 0x8000000000000001n })], 1002],
    ['non-minimal 16-bit length', [clientFrame({ opcode: OP.BINARY, lengthBits: 16, payload: 'short' })], 1002],
    ['non-minimal 64-bit length', [clientFrame({ opcode: OP.BINARY, lengthBits: 64, payload: 'short' })], 1002],
    ['invalid UTF-8', [clientFrame({ opcode: OP.TEXT, payload: Buffer.from([0xce, 0xba, 0xff]) })], 1007],
    ['close payload of 1 byte', [clientFrame({ opcode: OP.CLOSE, payload: Buffer.from([3]) })], 1002],
    ['close code 1005', [clientFrame({ opcode: OP.CLOSE, payload: closePayload(1005) })], 1002],
    ['close code 999', [clientFrame({ opcode: OP.CLOSE, payload: closePayload(999) })], 1002],
    ['close code 2999', [clientFrame({ opcode: OP.CLOSE, payload: closePayload(2999) })], 1002],
    ['close code 5000', [clientFrame({ opcode: OP.CLOSE, payload: closePayload(5000) })], 1002],
    ['invalid UTF-8 in a close reason', [clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000, Buffer.from([0xc0, 0xaf])) })], 1007],
  ];
  for (const [name, frames, code] of cases) {
    test(`RFC 6455 §7.1.7: ${name} → close ${code} on the wire, server closes TCP, 'close' event ${code}`, async (t) => {
      const { peer, ws, closed } = await pair(t);
      let errorCode = '';
      ws.on('error', (error) => (errorCode = error.code));
      for (const frame of frames) peer.write(frame);
      const frame = await peer.nextFrame();
      assert.equal(frame.masked, false, 'server frames are unmasked');
      assert.equal(readClose(frame).code, code);
      await peer.waitEnd(2000);
      const [eventCode] = await closed;
      assert.equal(eventCode, code);
      assert.equal(ws.wasClean, false);
      assert.match(errorCode, /^WSF_ERR_/);
    });
  }

  test('decision: a header announcing 16 MiB + 1 bytes gets close 1009 before any payload is sent', async (t) => {
    const { peer, closed } = await pair(t);
    peer.write(clientFrame({ opcode: OP.BINARY, declaredLength: 16 * 1024 * 1024 + 1 }));
    assert.equal((await peer.nextClose()).code, 1009);
    assert.equal((await closed)[0], 1009);
  });

  test('decision: a custom maxPayload refuses a fragmented message from the header that passes it (1009)', async (t) => {
    const { peer } = await pair(t, { maxPayload: 1000 });
    peer.write(clientFrame({ opcode: OP.BINARY, fin: false, payload: Buffer.alloc(1000) }));
    peer.write(clientFrame({ opcode: OP.CONTINUATION, declaredLength: 1 }));
    assert.equal((await peer.nextClose()).code, 1009);
  });

  test('decision: more than maxFragments fragments → 1009 (maxFragments: 3)', async (t) => {
    const { peer } = await pair(t, { maxFragments: 3 });
    peer.write(clientFrame({ opcode: OP.TEXT, fin: false, payload: 'a' }));
    peer.write(clientFrame({ opcode: OP.CONTINUATION, fin: false, payload: 'b' }));
    peer.write(clientFrame({ opcode: OP.CONTINUATION, fin: false, payload: 'c' }));
    peer.write(clientFrame({ opcode: OP.CONTINUATION, fin: false, payload: 'd' }));
    assert.equal((await peer.nextClose()).code, 1009);
  });

  test('Autobahn 6.4 (fail fast): invalid UTF-8 in the first fragment of a long message → 1007 before the rest is sent', async (t) => {
    const { peer } = await pair(t);
    peer.write(clientFrame({ opcode: OP.TEXT, fin: false, payload: Buffer.concat([Buffer.from('valid start '), Buffer.from([0xed, 0xa0, 0x80])]) }));
    assert.equal((await peer.nextClose()).code, 1007);
  });

  test('Autobahn 6.4 (fail fast): invalid UTF-8 in the first chunk of a 4 MiB text frame → 1007 before the frame ends', async (t) => {
    const { peer } = await pair(t);
    const payload = Buffer.alloc(4 * 1024 * 1024, 0x61);
    payload[100] = 0xfe;
    const frame = clientFrame({ opcode: OP.TEXT, payload });
    peer.write(frame.subarray(0, 14 + 1024)); // header + first KiB only
    assert.equal((await peer.nextClose()).code, 1007);
  });
});

describe('the closing handshake (RFC 6455 §5.5.1, §7.1)', () => {
  for (const code of [1000, 1001, 1003, 1011, 3000, 4999]) {
    test(`RFC 6455 §5.5.1: client close ${code} is echoed, the server closes TCP first, 'close' event (${code}, reason), wasClean`, async (t) => {
      const { peer, ws, closed } = await pair(t);
      peer.sendClose(code, 'see you');
      const echoed = await peer.nextClose();
      assert.equal(echoed.code, code);
      // We never end our side: the FIN must come from the server (§7.1.1).
      await peer.waitEnd(2000);
      assert.deepEqual(await closed, [code, 'see you']);
      assert.equal(ws.wasClean, true);
    });
  }

  test('RFC 6455 §7.1.5: an empty close is answered with 1000 and reported as 1005', async (t) => {
    const { peer, ws, closed } = await pair(t);
    peer.sendClose();
    assert.equal((await peer.nextClose()).code, 1000);
    await peer.waitEnd();
    assert.deepEqual(await closed, [1005, '']);
    assert.equal(ws.wasClean, true);
  });

  test('RFC 6455 §7.1.2: ws.close(4000, "bye") sends that close; after the reply the server closes TCP; event has the peer\'s code', async (t) => {
    const { peer, ws, closed } = await pair(t);
    ws.close(4000, 'bye');
    assert.equal(ws.readyState, 2, 'CLOSING');
    assert.deepEqual(await peer.nextClose(), { code: 4000, reason: 'bye' });
    assert.equal(peer.ended, false, 'the server waits for our close before closing TCP');
    peer.sendClose(4000, 'ok');
    await peer.waitEnd(2000);
    assert.deepEqual(await closed, [4000, 'ok']);
    assert.equal(ws.wasClean, true);
    assert.equal(ws.readyState, 3, 'CLOSED');
  });

  test('decision: a peer that never answers our close is dropped after closeTimeout (200 ms)', async (t) => {
    const { peer, ws, closed } = await pair(t, { closeTimeout: 200 });
    const started = performance.now();
    ws.close(1000);
    assert.equal((await peer.nextClose()).code, 1000);
    await peer.waitEnd(3000);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 150 && elapsed < 2000, `dropped after ${elapsed.toFixed(0)} ms`);
    assert.equal((await closed)[0], 1006, 'no close frame received: 1006 (RFC 6455 §7.1.5)');
    assert.equal(ws.wasClean, false);
  });

  test('RFC 6455 §7.1.5: a TCP connection that drops without a close gives 1006', async (t) => {
    const { peer, ws, closed } = await pair(t);
    peer.destroy();
    assert.deepEqual(await closed, [1006, '']);
    assert.equal(ws.wasClean, false);
  });

  test('RFC 6455 §7.1.5: a peer that half-closes TCP (FIN) without a close frame: the server closes too, event 1006', async (t) => {
    const { peer, ws, closed } = await pair(t);
    peer.socket.end();
    await peer.waitClosed(2000);
    assert.deepEqual(await closed, [1006, '']);
    assert.equal(ws.wasClean, false);
  });

  test('RFC 6455 §7.1.2: after we send a close, incoming data messages are dropped and pings not answered', async (t) => {
    const { peer, ws, closed } = await pair(t);
    const messages: unknown[] = [];
    const pings: unknown[] = [];
    ws.on('message', (data) => messages.push(data));
    ws.on('ping', (data) => pings.push(data));
    ws.close(1000);
    assert.equal((await peer.nextClose()).code, 1000);
    peer.write(clientFrame({ opcode: OP.TEXT, payload: 'too late' }));
    peer.write(clientFrame({ opcode: OP.PING, payload: 'too late' }));
    // Our close frame follows on the same stream: a message or a pong for the frames before it would come first.
    peer.sendClose(1000);
    await peer.waitEnd();
    await closed;
    assert.deepEqual(messages, []);
    assert.deepEqual(pings, []);
    assert.deepEqual(peer.takeFrames(), [], 'no pong after our close');
  });

  test('RFC 6455 §5.5.2: a ping is answered with a pong with the same payload, also between fragments', async (t) => {
    const { peer, ws } = await pair(t);
    const messages: Array<[unknown, boolean]> = [];
    ws.on('message', (data, isBinary) => messages.push([data, isBinary]));
    peer.write(clientFrame({ opcode: OP.PING, payload: 'plain' }));
    let frame = await peer.nextFrame();
    assert.equal(frame.opcode, OP.PONG);
    assert.equal(frame.payload.toString(), 'plain');
    peer.write(clientFrame({ opcode: OP.TEXT, fin: false, payload: 'frag' }));
    peer.write(clientFrame({ opcode: OP.PING, payload: Buffer.from([0, 255, 7]) }));
    frame = await peer.nextFrame();
    assert.equal(frame.opcode, OP.PONG);
    assert.deepEqual(frame.payload, Buffer.from([0, 255, 7]));
    const message = nextEvent(ws, 'message', 2000);
    peer.write(clientFrame({ opcode: OP.CONTINUATION, payload: 'ment' }));
    await message;
    assert.deepEqual(messages, [['fragment', false]]);
  });
});

describe('client side of the closing handshake (RFC 6455 §5.1, §7.1)', () => {
  async function clientPair(t: TestContext, options: Parameters<typeof connect>[1] = {}) {
    const fake = await startFakeServer();
    t.after(() => fake.close());
    const connecting = connect(`ws://127.0.0.1:${fake.port}/`, { closeTimeout: 300, ...options });
    const peer = await fake.nextPeer();
    const request = await peer.readHead();
    peer.write(switchingProtocols(request));
    peer.startFrames();
    const ws = await withTimeout(connecting, 2000, 'connect()');
    t.after(() => ws.terminate());
    const closed = nextEvent<[number, string]>(ws, 'close', 5000);
    closed.catch(() => {});
    return { peer, ws, closed };
  }

  test('RFC 6455 §5.1: a masked frame from the server makes the client close with 1002 (masked)', async (t) => {
    const { peer, closed } = await clientPair(t);
    peer.write(clientFrame({ opcode: OP.TEXT, payload: 'masked by a server' }));
    const frame = await peer.nextFrame();
    assert.equal(frame.masked, true, 'client frames are masked');
    assert.equal(readClose(frame).code, 1002);
    assert.equal((await closed)[0], 1002);
  });

  test('RFC 6455 §7.1.1: the client echoes the server\'s close and waits for the server to close TCP', async (t) => {
    const { peer, ws, closed } = await clientPair(t, { closeTimeout: 2000 });
    peer.write(serverFrame({ opcode: OP.CLOSE, payload: closePayload(1001, 'going') }));
    const echoed = await peer.nextFrame();
    assert.equal(echoed.masked, true);
    assert.equal(readClose(echoed).code, 1001);
    // No event marks "still waiting for the server's FIN" (the next is closeTimeout): 100 ms for a client that closes first to do so.
    await delay(100);
    assert.equal(peer.ended, false, 'the client does not close TCP first');
    peer.socket.end();
    assert.deepEqual(await closed, [1001, 'going']);
    assert.equal(ws.wasClean, true);
  });

  test('decision: a client whose server never closes TCP after the handshake closes it after closeTimeout', async (t) => {
    const { peer, closed } = await clientPair(t, { closeTimeout: 200 });
    peer.write(serverFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
    assert.equal((await peer.nextClose()).code, 1000);
    await peer.waitEnd(3000);
    assert.equal((await closed)[0], 1000);
  });

  test('RFC 6455 §5.5.2: the client answers pings with masked pongs carrying the same payload', async (t) => {
    const { peer } = await clientPair(t);
    peer.write(serverFrame({ opcode: OP.PING, payload: 'hello?' }));
    const frame = await peer.nextFrame();
    assert.equal(frame.opcode, OP.PONG);
    assert.equal(frame.masked, true);
    assert.equal(frame.payload.toString(), 'hello?');
  });

  test('RFC 6455 §5.3: client data frames are masked with a fresh key per frame', async (t) => {
    const { peer, ws } = await clientPair(t);
    ws.send('one');
    ws.send('one');
    ws.send(Buffer.alloc(300));
    const frames = [await peer.nextFrame(), await peer.nextFrame(), await peer.nextFrame()];
    for (const frame of frames) assert.equal(frame.masked, true);
    assert.equal(new Set(frames.map((f) => f.mask!.toString('hex'))).size, 3);
    assert.equal(frames[0]!.payload.toString(), 'one');
    assert.equal(frames[1]!.payload.toString(), 'one');
  });

  test('decision: a server frame announcing more than the client\'s maxPayload → client closes 1009', async (t) => {
    const { peer, closed } = await clientPair(t, { maxPayload: 1024 });
    peer.write(serverFrame({ opcode: OP.BINARY, declaredLength: 1025 }));
    assert.equal((await peer.nextClose()).code, 1009);
    assert.equal((await closed)[0], 1009);
  });
});
