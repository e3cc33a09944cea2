/**
 * Server-wide handlers (`handlers` in ServerOptions): one set of functions for every
 * connection, called with the connection first, before the connection's own listeners.
 * Over loopback sockets, with a raw client so the bytes on the wire are checked exactly.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test, type TestContext } from 'node:test';
import { ErrorCode, type WebSocketError } from '../../src/protocol/index.js';
import { type HandshakeRequest, SendStatus, type ServerHandlers, type WebSocket } from '../../src/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { openRaw, type RawPeer } from '../helpers/raw-peer.js';
import { SERVER_MODES, startServer, type RunningServer } from '../helpers/server-fixture.js';
import { nextEvent, waitUntil } from '../helpers/timing.js';
import { clientFrame, OP } from '../helpers/wire-frames.js';

guardProcess();

/** A server with `handlers` (no 'connection' listener unless the test adds one) and a raw client. */
async function serve(t: TestContext, handlers: ServerHandlers, options: object = {}): Promise<{ server: RunningServer; peer: RawPeer }> {
  const server = await startServer({ handlers, ...options });
  t.after(() => server.stop());
  const { peer } = await openRaw(server.port);
  t.after(() => peer.destroy());
  return { server, peer };
}

describe('server handlers (decision: uWS-style handlers, no per-connection closure)', () => {
  test('API: an echo written with handlers only: text stays text, binary stays binary, same bytes', async (t) => {
    const seen: Array<[string | Buffer, boolean]> = [];
    const { peer } = await serve(t, {
      message(ws, data, isBinary) {
        seen.push([data, isBinary]);
        ws.send(data);
      },
    });
    peer.write(clientFrame({ opcode: OP.TEXT, payload: 'héllo ✓' }));
    peer.write(clientFrame({ opcode: OP.BINARY, payload: Buffer.from([0, 0xff, 7]) }));
    const text = await peer.nextFrame();
    const binary = await peer.nextFrame();
    assert.deepEqual([text.opcode, text.fin, text.masked, text.payload.toString()], [OP.TEXT, true, false, 'héllo ✓']);
    assert.deepEqual([binary.opcode, [...binary.payload]], [OP.BINARY, [0, 0xff, 7]]);
    assert.deepEqual(seen, [
      ['héllo ✓', false],
      [Buffer.from([0, 0xff, 7]), true],
    ]);
  });

  for (const mode of SERVER_MODES) {
    test(`API (${mode}): open and message handlers serve connections in every server mode`, async (t) => {
      const opened: string[] = [];
      const server = await startServer({ handlers: { open: (_ws, request) => opened.push(request.path), message: (ws, data) => ws.send(data) } }, mode);
      t.after(() => server.stop());
      const { peer } = await openRaw(server.port, { path: '/m' });
      t.after(() => peer.destroy());
      peer.write(clientFrame({ opcode: OP.BINARY, payload: Buffer.from(mode) }));
      const echoed = await peer.nextFrame();
      assert.deepEqual([echoed.opcode, echoed.payload.toString()], [OP.BINARY, mode]);
      assert.deepEqual(opened, ['/m']);
    });
  }

  test("API: open(ws, request) runs before the 'connection' event, with ws.data from onHandshake set", async (t) => {
    const order: string[] = [];
    let openedWith: [WebSocket, HandshakeRequest] | null = null;
    const server = await startServer({
      onHandshake: () => ({ data: { user: 'ada' } }),
      handlers: {
        open(ws, request) {
          openedWith = [ws, request];
          order.push(`open ${JSON.stringify(ws.data)} ${request.path}`);
        },
      },
    });
    t.after(() => server.stop());
    server.wss.on('connection', (ws) => order.push(`connection ${ws === openedWith?.[0]}`));
    const { peer } = await openRaw(server.port, { path: '/room?x=1' });
    t.after(() => peer.destroy());
    await waitUntil(() => order.length === 2, 2000, 'open and connection');
    assert.deepEqual(order, ['open {"user":"ada"} /room', 'connection true']);
  });

  test("API: the handler runs before the connection's own listener; both get the message", async (t) => {
    const order: string[] = [];
    const server = await startServer({ handlers: { message: (_ws, data) => order.push(`handler ${String(data)}`) } });
    t.after(() => server.stop());
    server.wss.on('connection', (ws) => ws.on('message', (data) => order.push(`listener ${String(data)}`)));
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    peer.write(clientFrame({ opcode: OP.TEXT, payload: 'a' }));
    peer.write(clientFrame({ opcode: OP.TEXT, payload: 'b' }));
    await waitUntil(() => order.length === 4, 2000, 'four calls');
    assert.deepEqual(order, ['handler a', 'listener a', 'handler b', 'listener b']);
  });

  test('RFC 6455 §7.1.5: close(ws, code, reason) gets the peer\'s code and reason; the close is echoed', async (t) => {
    const closes: Array<[number, string, number]> = [];
    const { peer } = await serve(t, { close: (ws, code, reason) => closes.push([code, reason, ws.readyState]) });
    peer.sendClose(4000, 'bye');
    const echoed = await peer.closeFrame();
    assert.deepEqual([echoed.code, echoed.reason], [4000, 'bye']);
    await waitUntil(() => closes.length === 1, 2000, 'the close handler');
    assert.deepEqual(closes, [[4000, 'bye', 3]]);
  });

  test('RFC 6455 §5.1: error(ws, error) gets WSF_ERR_MASK_REQUIRED for an unmasked frame; the peer gets 1002; close reports 1002', async (t) => {
    const errors: WebSocketError[] = [];
    const closes: number[] = [];
    const { peer } = await serve(t, { error: (_ws, error) => errors.push(error), close: (_ws, code) => closes.push(code) });
    peer.write(clientFrame({ opcode: OP.TEXT, payload: 'unmasked', mask: null }));
    const close = await peer.closeFrame();
    assert.equal(close.code, 1002);
    await waitUntil(() => closes.length === 1, 2000, 'the close handler');
    assert.deepEqual(
      errors.map((e) => [e.code, e.closeCode]),
      [[ErrorCode.MASK_REQUIRED, 1002]],
    );
    assert.deepEqual(closes, [1002]);
  });

  test('RFC 6455 §5.5.2/§5.5.3: ping(ws, payload) and pong(ws, payload); the ping is still answered', async (t) => {
    const got: string[] = [];
    const { peer } = await serve(t, {
      ping: (_ws, payload) => got.push(`ping ${payload.toString()}`),
      pong: (_ws, payload) => got.push(`pong ${payload.toString()}`),
    });
    peer.write(clientFrame({ opcode: OP.PING, payload: 'p1' }));
    peer.write(clientFrame({ opcode: OP.PONG, payload: 'u1' }));
    const pong = await peer.nextFrame();
    assert.deepEqual([pong.opcode, pong.payload.toString()], [OP.PONG, 'p1']);
    await waitUntil(() => got.length === 2, 2000, 'ping and pong handlers');
    assert.deepEqual(got, ['ping p1', 'pong u1']);
  });

  test('decision (highWaterMark 1 MiB): drain(ws) follows a send() that returned BACKPRESSURE', async (t) => {
    let drains = 0;
    let sent: number | null = null;
    const { peer } = await serve(t, {
      open(ws) {
        sent = ws.send(Buffer.alloc(2 * 1024 * 1024));
      },
      drain: () => drains++,
    });
    peer.discard();
    await waitUntil(() => drains === 1, 5000, 'the drain handler');
    assert.equal(sent, SendStatus.BACKPRESSURE);
  });

  test('API: with handlers, listeners can still be added every way (on, once, prependListener, events.once) and removed', async (t) => {
    let connection: WebSocket | null = null;
    const { peer } = await serve(t, { open: (ws) => (connection = ws) });
    await waitUntil(() => connection !== null, 2000, 'open');
    const ws = connection!;
    assert.deepEqual(ws.eventNames(), [], 'no listeners yet');
    assert.equal(ws.listenerCount('message'), 0);
    const order: string[] = [];
    const onMessage = (data: string | Buffer) => order.push(`on ${String(data)}`);
    ws.once('message', (data) => order.push(`once ${String(data)}`));
    ws.on('message', onMessage);
    ws.prependListener('message', (data) => order.push(`prepend ${String(data)}`));
    const first = once(ws, 'message');
    peer.write(clientFrame({ opcode: OP.TEXT, payload: '1' }));
    assert.deepEqual(await first, ['1', false]);
    ws.off('message', onMessage);
    peer.write(clientFrame({ opcode: OP.TEXT, payload: '2' }));
    await waitUntil(() => order.length === 4, 2000, 'four calls');
    assert.deepEqual(order, ['prepend 1', 'once 1', 'on 1', 'prepend 2']);
    const closed = nextEvent<[number, string]>(ws, 'close', 2000);
    peer.sendClose(1000);
    assert.deepEqual(await closed, [1000, '']);
  });

  test('API: for await (const message of ws) works on a connection served with handlers', async (t) => {
    const received: Array<string | Buffer> = [];
    let done = false;
    const { peer } = await serve(t, {
      open(ws) {
        void (async () => {
          for await (const message of ws) received.push(message);
          done = true;
        })();
      },
    });
    peer.write(clientFrame({ opcode: OP.TEXT, payload: 'x' }));
    peer.write(clientFrame({ opcode: OP.BINARY, payload: Buffer.from([1]) }));
    peer.sendClose(1000);
    await peer.closeFrame();
    await waitUntil(() => done, 2000, 'the iterator to end');
    assert.deepEqual(received, ['x', Buffer.from([1])]);
  });
});
