/**
 * Keepalive and idle timeout (decision: pingInterval 20 s, pingTimeout 20 s, idleTimeout off by
 * default, as python websockets): a silent peer gets a ping, a peer that stays silent is closed
 * 1011 (WSF_ERR_KEEPALIVE_TIMEOUT), a live one stays, and a connection with no message either
 * way is closed 1001 after idleTimeout. Server and client side, over loopback.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { connect, DEFAULT_PING_INTERVAL, DEFAULT_PING_TIMEOUT, type WebSocket } from '../../src/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { acceptFor, openRaw } from '../helpers/raw-peer.js';
import { startServer } from '../helpers/server-fixture.js';
import { nextEvent } from '../helpers/timing.js';
import { OP, WireFrameReader } from '../helpers/wire-frames.js';

guardProcess();

describe('keepalive (server side)', () => {
  test('decision: the defaults are 20 s and 20 s', () => {
    assert.equal(DEFAULT_PING_INTERVAL, 20_000);
    assert.equal(DEFAULT_PING_TIMEOUT, 20_000);
  });

  test('decision: a peer silent for pingInterval gets a ping; silent for pingTimeout more, it is closed 1011', async (t) => {
    const server = await startServer({ pingInterval: 300, pingTimeout: 300 });
    t.after(() => server.stop());
    const connection = nextEvent<[WebSocket]>(server.wss, 'connection', 2000);
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    const [ws] = await connection;
    const error = nextEvent<[{ code: string }]>(ws, 'error', 5000);
    const closed = nextEvent<[number]>(ws, 'close', 5000);
    const started = performance.now();
    const ping = await peer.nextFrame(3000);
    const pingAfter = performance.now() - started;
    assert.equal(ping.opcode, OP.PING);
    // Stamps use a clock that may be one sweep period (75 ms here) old: a ping can come that much early.
    assert.ok(pingAfter >= 200 && pingAfter < 1500, `ping after ${pingAfter.toFixed(0)} ms (interval 300)`);
    // The peer does not answer: the server closes with 1011 and says why.
    const close = await peer.nextClose(3000);
    const closedAfter = performance.now() - started;
    assert.equal(close.code, 1011);
    assert.ok(closedAfter >= 550 && closedAfter < 2500, `closed after ${closedAfter.toFixed(0)} ms (interval + timeout 600)`);
    assert.equal((await error)[0].code, 'WSF_ERR_KEEPALIVE_TIMEOUT');
    peer.destroy();
    assert.equal((await closed)[0], 1011);
  });

  test('decision: a peer that answers the pings stays connected past several intervals', async (t) => {
    const server = await startServer({ pingInterval: 200, pingTimeout: 200 });
    t.after(() => server.stop());
    server.wss.on('connection', (ws: WebSocket) => ws.on('message', (data) => ws.send(data)));
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    for (let pings = 0; pings < 4; ) {
      const frame = await peer.nextFrame(3000);
      assert.equal(frame.opcode, OP.PING, 'nothing but pings meanwhile');
      peer.sendClientFrame({ opcode: OP.PONG, payload: frame.payload });
      pings++;
    }
    // Still open: a message is echoed.
    peer.sendClientFrame({ opcode: OP.TEXT, payload: 'alive' });
    let frame = await peer.nextFrame(3000);
    while (frame.opcode === OP.PING) frame = await peer.nextFrame(3000);
    assert.deepEqual([frame.opcode, frame.payload.toString()], [OP.TEXT, 'alive']);
  });

  test('decision: with pingInterval 0 no ping is sent (an echo that comes after twice the would-be interval is the first frame)', async (t) => {
    const server = await startServer({ pingInterval: 0 });
    t.after(() => server.stop());
    server.wss.on('connection', (ws: WebSocket) => ws.on('message', (data) => setTimeout(() => ws.send(data), 400)));
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    peer.sendClientFrame({ opcode: OP.TEXT, payload: 'later' });
    const frame = await peer.nextFrame(3000);
    assert.deepEqual([frame.opcode, frame.payload.toString()], [OP.TEXT, 'later']);
  });

  test('decision: idleTimeout closes a connection with no message either way (1001, WSF_ERR_IDLE_TIMEOUT), even while pongs flow', async (t) => {
    const server = await startServer({ pingInterval: 100, pingTimeout: 1000, idleTimeout: 500 });
    t.after(() => server.stop());
    const connection = nextEvent<[WebSocket]>(server.wss, 'connection', 2000);
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    const [ws] = await connection;
    const error = nextEvent<[{ code: string }]>(ws, 'error', 5000);
    const started = performance.now();
    let frame = await peer.nextFrame(3000);
    while (frame.opcode === OP.PING) {
      peer.sendClientFrame({ opcode: OP.PONG, payload: frame.payload });
      frame = await peer.nextFrame(3000);
    }
    const after = performance.now() - started;
    assert.equal(frame.opcode, OP.CLOSE);
    assert.equal(frame.payload.readUInt16BE(0), 1001);
    assert.ok(after >= 450 && after < 2500, `idle close after ${after.toFixed(0)} ms (idleTimeout 500)`);
    assert.equal((await error)[0].code, 'WSF_ERR_IDLE_TIMEOUT');
  });

  test('decision: a message either way resets the idle timer', async (t) => {
    const server = await startServer({ pingInterval: 0, idleTimeout: 600 });
    t.after(() => server.stop());
    server.wss.on('connection', (ws: WebSocket) => ws.on('message', (data) => ws.send(data)));
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    const started = performance.now();
    for (let i = 0; i < 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      peer.sendClientFrame({ opcode: OP.TEXT, payload: `m${i}` });
      const echo = await peer.nextFrame(2000);
      assert.equal(echo.payload.toString(), `m${i}`, `still open after ${(performance.now() - started).toFixed(0)} ms`);
    }
    const close = await peer.nextClose(3000);
    assert.equal(close.code, 1001);
  });
});

describe('keepalive (client side)', () => {
  test('decision: connect() pings a silent server and closes 1011 when it stays silent', async (t) => {
    // A server that completes the handshake and then reads but never answers.
    const frames: number[] = [];
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      const reader = new WireFrameReader();
      let head = '';
      socket.on('data', (chunk: Buffer) => {
        if (!head.includes('\r\n\r\n')) {
          head += chunk.toString('latin1');
          const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? '';
          if (head.includes('\r\n\r\n')) {
            socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`);
          }
          return;
        }
        for (const frame of reader.push(chunk)) frames.push(frame.opcode);
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      server.close();
    });
    const port = (server.address() as { port: number }).port;
    const ws = await connect(`ws://127.0.0.1:${port}/`, { pingInterval: 200, pingTimeout: 200, closeTimeout: 300 });
    const error = nextEvent<[{ code: string }]>(ws, 'error', 5000);
    const closed = nextEvent<[number]>(ws, 'close', 5000);
    assert.equal((await error)[0].code, 'WSF_ERR_KEEPALIVE_TIMEOUT');
    assert.equal((await closed)[0], 1011);
    assert.deepEqual(frames.slice(0, 2), [OP.PING, OP.CLOSE], 'a ping, then a close frame (1011)');
  });
});
