/**
 * ws's README client examples, run unchanged except for the import (test/ws/readme-client-examples/),
 * each in a process of its own, against a real `ws` (npm) server on loopback; and the client
 * half of "Client authentication" against that README's server example.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import type { WebSocket as WsSocket, WebSocketServer as WsServer } from 'ws';
import { WebSocket } from '../../src/ws/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { delay, nextEvent } from '../helpers/timing.js';
import { EventQueue } from '../interop/bounded-wait.js';
import { loadWs } from '../interop/npm-peers.js';
import { type ExampleProcess, startExample } from './example-process.js';

guardProcess();

const EXAMPLES = new URL('../../../test/ws/readme-client-examples/', import.meta.url);
const SERVER_EXAMPLES = new URL('../../../test/ws/readme-examples/', import.meta.url);

interface Server {
  wss: WsServer;
  port: number;
  connections: EventQueue<WsSocket>;
  /** Every message the server received, as [data, isBinary]. */
  messages: EventQueue<[Buffer, boolean]>;
}

/** A ws server on 127.0.0.1, closed after the test; `echo` sends each message back. */
async function startServer(t: TestContext, echo: boolean): Promise<Server> {
  const { WebSocketServer: WsServerClass } = await loadWs();
  const wss = new WsServerClass({ port: 0, host: '127.0.0.1' });
  await nextEvent(wss, 'listening', 3000);
  t.after(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });
  const connections = new EventQueue<WsSocket>('connection');
  const messages = new EventQueue<[Buffer, boolean]>('server message');
  wss.on('connection', (socket) => {
    connections.push(socket);
    socket.on('message', (data, isBinary) => {
      messages.push([data as Buffer, isBinary]);
      if (echo) socket.send(data, { binary: isBinary });
    });
  });
  return { wss, port: (wss.address() as AddressInfo).port, connections, messages };
}

type Example = ExampleProcess;

/** Run a client example with the loopback harness pointing it at `port`; killed (by PID) after the test. */
function runExample(t: TestContext, name: string, port: number, directory = EXAMPLES, harness = new URL('loopback-harness.mjs', EXAMPLES)): Example {
  return startExample(t, new URL(name, directory), harness, { WS_EXAMPLE_PORT: String(port) });
}

async function line(example: Example, what: string): Promise<string> {
  return example.lines.next(10_000, what).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; stderr: ${example.stderr()}`);
  });
}

describe("ws's README client examples on wsforge/ws", () => {
  test('Sending and receiving text data: the server gets "something"; what it sends back is logged', async (t) => {
    const server = await startServer(t, false);
    const example = runExample(t, 'sending-text.mjs', server.port);
    const socket = await server.connections.next(10_000);
    const [data, isBinary] = await server.messages.next(10_000);
    assert.deepEqual([data.toString(), isBinary], ['something', false]);
    socket.send('hello from ws');
    assert.equal(await line(example, 'the logged message'), 'received: hello from ws');
  });

  test('Sending binary data: the server gets the Float32Array as one binary message', async (t) => {
    const server = await startServer(t, false);
    runExample(t, 'sending-binary.mjs', server.port);
    const [data, isBinary] = await server.messages.next(10_000);
    assert.equal(isBinary, true);
    const floats = new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    assert.deepEqual([...floats], [0, 0.5, 1, 1.5, 2]);
  });

  test('Round-trip time: "connected", then round-trip times from the echoed timestamps; "disconnected" when the server closes', async (t) => {
    const server = await startServer(t, true);
    const example = runExample(t, 'round-trip-time.mjs', server.port);
    assert.equal(await line(example, '"connected"'), 'connected');
    for (let i = 0; i < 2; i++) assert.match(await line(example, 'a round-trip time'), /^Round-trip time: \d+ ms$/);
    const socket = await server.connections.next(3000);
    socket.close(1000);
    // Lines may still be in flight before the close.
    let last = await line(example, '"disconnected"');
    while (last.startsWith('Round-trip')) last = await line(example, '"disconnected"');
    assert.equal(last, 'disconnected');
  });

  test('Use the Node.js streams API: stdin goes to the server, the echo comes out on stdout', async (t) => {
    const server = await startServer(t, true);
    const example = runExample(t, 'streams.mjs', server.port);
    await server.connections.next(10_000);
    example.process.stdin!.write('through the stream\n');
    assert.equal(await line(example, 'the echo on stdout'), 'through the stream');
    const [data] = await server.messages.next(3000);
    assert.equal(data.toString(), 'through the stream\n');
  });

  test("How to detect and close broken connections? (client): the server's pings keep it open; without them it terminates itself", async (t) => {
    const server = await startServer(t, false);
    runExample(t, 'heartbeat-client.mjs', server.port);
    const socket = await server.connections.next(10_000);
    const closed = nextEvent<[number]>(socket, 'close', 10_000);
    // The harness runs the example's 31 s timer in 310 ms: pings every 100 ms keep it alive.
    for (let i = 0; i < 8; i++) {
      socket.ping();
      await delay(100);
    }
    assert.equal(socket.readyState, socket.OPEN);
    // No more pings: terminate() (no close frame) within about 310 ms.
    const [code] = await closed;
    assert.equal(code, 1006);
  });

  test('Client authentication (client half): without a token the answer is 401; with one, the server logs the user', async (t) => {
    const example = runExample(t, 'client-authentication.mjs', 0, SERVER_EXAMPLES, new URL('loopback-harness.mjs', SERVER_EXAMPLES));
    const listening = /^LISTENING (\d+)$/.exec(await line(example, 'LISTENING'));
    assert.ok(listening);
    const port = Number(listening[1]);
    const refused = new WebSocket(`ws://127.0.0.1:${port}/?token=bad`);
    t.after(() => refused.terminate());
    const [error] = (await nextEvent(refused, 'error', 3000)) as [Error];
    assert.equal(error.message, 'Unexpected server response: 401');
    const ws = new WebSocket(`ws://127.0.0.1:${port}/?token=ok`);
    t.after(() => ws.terminate());
    await nextEvent(ws, 'open', 3000);
    ws.send('hi from the wsforge client');
    assert.equal(await line(example, 'the logged message'), 'Received message hi from the wsforge client from user ada');
  });
});
