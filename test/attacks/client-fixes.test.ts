/**
 * The two client bugs of the issue. `connect(url, { signal })` with a signal aborted before the
 * call threw a ReferenceError and left a socket behind. The WHATWG WebSocket opened when the server
 * selected none of the requested subprotocols; the WebSockets Standard ("establish a WebSocket
 * connection") fails the connection then, as browsers and Node's built-in client do.
 */
import assert from 'node:assert/strict';
import { createServer, connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { connect, WebSocketError } from '../../src/index.js';
import { CloseEvent, WebSocket } from '../../src/whatwg.js';
import { guardProcess } from '../helpers/process-guard.js';
import { startServer } from '../helpers/server-fixture.js';
import { withTimeout } from '../helpers/timing.js';

guardProcess();

/** TCP sockets (connected or connecting) this process holds, as Node counts them. */
function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap' || name === 'TCPConnectWrap').length;
}

/** A plain TCP server that keeps the connections that reach it, in the order they arrive. */
async function tcpServer(t: TestContext): Promise<{ port: number; first(): Promise<Socket> }> {
  const sockets: Socket[] = [];
  let arrived: (() => void) | null = null;
  const server = createServer((socket) => {
    sockets.push(socket);
    arrived?.();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return {
    port: (server.address() as AddressInfo).port,
    first: () =>
      withTimeout(
        new Promise<Socket>((resolve) => {
          if (sockets.length > 0) resolve(sockets[0]!);
          else arrived = () => resolve(sockets[0]!);
        }),
        3000,
        'a connection to the TCP server',
      ),
  };
}

describe('attack: client fixes', () => {
  test('connect() with an already-aborted signal rejects with WSF_ERR_HANDSHAKE_CONNECTION and opens no socket', async (t) => {
    const server = await tcpServer(t);
    const handles = tcpHandles();
    let failure: unknown;
    try {
      await connect(`ws://127.0.0.1:${server.port}/`, { signal: AbortSignal.abort() });
      assert.fail('connect() resolved');
    } catch (error) {
      failure = error;
    }
    assert.ok(failure instanceof WebSocketError, `connect() rejected with ${String(failure)}`);
    assert.equal(failure.code, 'WSF_ERR_HANDSHAKE_CONNECTION');
    assert.equal(tcpHandles(), handles, 'no TCP socket was created');
    // The server accepts connections in the order they arrive: if connect() had opened one, it
    // would reach the server before this one.
    const control = netConnect({ port: server.port, host: '127.0.0.1' });
    t.after(() => control.destroy());
    await new Promise<void>((resolve) => control.once('connect', resolve));
    const first = await server.first();
    assert.equal(first.remotePort, control.localPort, 'the first connection the server saw is the control connection');
  });

  test('WHATWG: subprotocols requested and none selected by the server: error, then close 1006, never open', async (t) => {
    // A server that speaks no subprotocol accepts the handshake without Sec-WebSocket-Protocol.
    const server = await startServer();
    t.after(() => server.stop());
    const serverSide = new Promise<number>((resolve) => server.wss.on('connection', (ws) => ws.on('close', (code) => resolve(code))));
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`, ['chat.v2', 'chat.v1']);
    const events: string[] = [];
    ws.addEventListener('open', () => events.push('open'));
    ws.addEventListener('error', () => events.push('error'));
    const closed = withTimeout(
      new Promise<CloseEvent>((resolve) => ws.addEventListener('close', (event) => resolve(event as CloseEvent))),
      3000,
      'the close event',
    );
    const event = await closed;
    assert.deepEqual(events, ['error']);
    assert.equal(event.code, 1006);
    assert.equal(event.wasClean, false);
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.equal(ws.protocol, '');
    // The client failed the connection: the server sees the TCP connection go without a closing handshake.
    assert.equal(await withTimeout(serverSide, 3000, 'the server to see the connection close'), 1006);
  });

  test('WHATWG: the same request to a server that selects one of them opens with that subprotocol', async (t) => {
    const server = await startServer({ protocols: ['chat.v1'] });
    t.after(() => server.stop());
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`, ['chat.v2', 'chat.v1']);
    await withTimeout(new Promise((resolve) => ws.addEventListener('open', resolve)), 3000, 'the open event');
    assert.equal(ws.protocol, 'chat.v1');
    const closed = new Promise((resolve) => ws.addEventListener('close', resolve));
    ws.close();
    await withTimeout(closed, 3000, 'the close event');
  });
});
