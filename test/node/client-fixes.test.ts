/**
 * Client fixes with a test each that failed before: connect() with an already-aborted signal
 * rejects without opening a socket (it used to throw a ReferenceError and leave a socket
 * behind), and the WHATWG WebSocket fails when the server selects none of the requested
 * subprotocols (as browsers and Node's built-in client do).
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { connect } from '../../src/index.js';
import { WebSocket as WhatwgWebSocket } from '../../src/whatwg.js';
import { guardProcess } from '../helpers/process-guard.js';
import { acceptFor } from '../helpers/raw-peer.js';
import { startServer } from '../helpers/server-fixture.js';
import { withTimeout } from '../helpers/timing.js';

guardProcess();

describe('client fixes', () => {
  test('connect() with an already-aborted signal rejects (WSF_ERR_HANDSHAKE_CONNECTION) and opens no connection', async (t) => {
    const accepted: Socket[] = [];
    const server = createServer((socket) => {
      accepted.push(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of accepted) socket.destroy();
      server.close();
    });
    const port = (server.address() as { port: number }).port;
    await assert.rejects(connect(`ws://127.0.0.1:${port}/`, { signal: AbortSignal.abort() }), {
      code: 'WSF_ERR_HANDSHAKE_CONNECTION',
      message: /aborted/,
    });
    // A later connection is the first the server sees: the aborted one never connected.
    const first = new Promise<void>((resolve) => server.once('connection', () => resolve()));
    const probe = connect(`ws://127.0.0.1:${port}/`, { handshakeTimeout: 300 }).catch(() => undefined);
    await withTimeout(first, 2000, 'the probe connection');
    assert.equal(accepted.length, 1);
    await probe;
  });

  test('connect() to a closed port with an already-aborted signal: no unhandled error, the same rejection', async () => {
    await assert.rejects(connect('ws://127.0.0.1:1/', { signal: AbortSignal.abort() }), { code: 'WSF_ERR_HANDSHAKE_CONNECTION' });
  });

  test('WHATWG: protocols requested, none selected by the server: error, then close 1006, never open', async (t) => {
    // A server that accepts without Sec-WebSocket-Protocol whatever was offered.
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      let head = '';
      socket.on('data', (chunk: Buffer) => {
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? '';
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`);
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      server.close();
    });
    const port = (server.address() as { port: number }).port;
    const ws = new WhatwgWebSocket(`ws://127.0.0.1:${port}/`, ['chat']);
    const events: string[] = [];
    ws.addEventListener('open', () => events.push('open'));
    ws.addEventListener('error', () => events.push('error'));
    const closed = new Promise<number>((resolve) => ws.addEventListener('close', (event) => resolve((event as unknown as { code: number }).code)));
    assert.equal(await withTimeout(closed, 3000, 'close'), 1006);
    assert.deepEqual(events, ['error']);
  });

  test('WHATWG: a server that selects a requested subprotocol still opens', async (t) => {
    const server = await startServer({ protocols: ['chat'] });
    t.after(() => server.stop());
    const ws = new WhatwgWebSocket(`ws://127.0.0.1:${server.port}/`, ['chat']);
    await withTimeout(new Promise<void>((resolve) => ws.addEventListener('open', () => resolve())), 3000, 'open');
    assert.equal(ws.protocol, 'chat');
    ws.close();
  });
});
