/**
 * ws's README server examples, run unchanged except for the import (test/ws/readme-examples/),
 * each in a process of its own, driven by `ws` (npm) clients over loopback.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { describe, test, type TestContext } from 'node:test';
import { EventQueue } from '../interop/bounded-wait.js';
import { withTimeout } from '../helpers/timing.js';
import { guardProcess } from '../helpers/process-guard.js';
import { exchange, headerValue, openRaw, upgradeRequest } from '../helpers/raw-peer.js';
import { openClient } from './compat-fixture.js';
import { startExample } from './example-process.js';

guardProcess();

const EXAMPLES = new URL('../../../test/ws/readme-examples/', import.meta.url);

interface Example {
  process: ChildProcess;
  port: number;
  /** Lines the example prints (console.log). */
  lines: EventQueue<string>;
  stderr: () => string;
}

/** Run an example with the loopback harness preloaded, and wait until it listens. */
async function runExample(t: TestContext, name: string): Promise<Example> {
  const { process: child, lines, stderr } = startExample(t, new URL(name, EXAMPLES), new URL('loopback-harness.mjs', EXAMPLES));
  const first = await lines.next(10_000, `${name} to listen`).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; stderr: ${stderr()}`);
  });
  const match = /^LISTENING (\d+)$/.exec(first);
  assert.ok(match, `expected LISTENING, got ${first}`);
  return { process: child, port: Number(match[1]), lines, stderr };
}

function assertAlive(example: Example): void {
  assert.equal(example.process.exitCode, null, `the example exited: ${example.stderr()}`);
}

describe("ws's README examples on wsforge/ws", () => {
  test('Simple server: the client gets "something"; what it sends is logged', async (t) => {
    const example = await runExample(t, 'simple-server.mjs');
    const client = await openClient(t, `ws://127.0.0.1:${example.port}`);
    assert.equal((await client.messages.next(3000)).data.toString(), 'something');
    client.ws.send('hello wsforge');
    assert.equal(await example.lines.next(3000), 'received: hello wsforge');
  });

  test('External HTTP/S server: the same over wss://', async (t) => {
    const example = await runExample(t, 'external-https-server.mjs');
    const client = await openClient(t, `wss://localhost:${example.port}`, undefined, { rejectUnauthorized: false });
    assert.equal((await client.messages.next(3000)).data.toString(), 'something');
    client.ws.send('over TLS');
    assert.equal(await example.lines.next(3000), 'received: over TLS');
  });

  test('WebSocket compression: the options given are negotiated (server_max_window_bits=10, no context takeover) and messages compress', async (t) => {
    const example = await runExample(t, 'compression.mjs');
    const { peer, head } = await openRaw(example.port, { extra: ['Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits'] });
    peer.destroy();
    const agreed = headerValue(head, 'sec-websocket-extensions') ?? '';
    assert.match(agreed, /^permessage-deflate/);
    assert.match(agreed, /server_max_window_bits=10/);
    assert.match(agreed, /server_no_context_takeover/);
    assert.match(agreed, /client_no_context_takeover/);
    const client = await openClient(t, `ws://127.0.0.1:${example.port}`, undefined, { perMessageDeflate: true });
    assert.match(client.ws.extensions, /permessage-deflate/);
    assertAlive(example);
  });

  test('Multiple servers sharing a single HTTP/S server: /foo and /bar are served, other paths dropped', async (t) => {
    const example = await runExample(t, 'shared-http-server.mjs');
    const foo = await openClient(t, `ws://127.0.0.1:${example.port}/foo`);
    const bar = await openClient(t, `ws://127.0.0.1:${example.port}/bar`);
    foo.ws.close(1000);
    bar.ws.close(1000);
    assert.equal((await foo.closed).code, 1000);
    assert.equal((await bar.closed).code, 1000);
    // Other paths: the socket is destroyed without an answer.
    await assert.rejects(exchange(example.port, upgradeRequest({ path: '/baz' })), /connection closed before a complete HTTP head/);
  });

  test('Client authentication: no token gets 401; a good one connects and its messages are logged with the user', async (t) => {
    const example = await runExample(t, 'client-authentication.mjs');
    const refused = await exchange(example.port, upgradeRequest({ path: '/?token=bad' }));
    assert.equal(refused.head.status, 401);
    const client = await openClient(t, `ws://127.0.0.1:${example.port}/?token=ok`);
    client.ws.send('hi');
    assert.equal(await example.lines.next(3000), 'Received message hi from user ada');
  });

  for (const [name, includesSender] of [
    ['broadcast-all.mjs', true],
    ['broadcast-others.mjs', false],
  ] as const) {
    test(`Server broadcast (${includesSender ? 'including' : 'excluding'} the sender): text and binary reach every ${includesSender ? '' : 'other '}client with their type`, async (t) => {
      const example = await runExample(t, name);
      const url = `ws://127.0.0.1:${example.port}`;
      const sender = await openClient(t, url);
      const others = [await openClient(t, url), await openClient(t, url)];
      sender.ws.send('to all');
      sender.ws.send(Buffer.from([1, 2, 3]));
      for (const client of includesSender ? [sender, ...others] : others) {
        const text = await client.messages.next(3000);
        const binary = await client.messages.next(3000);
        assert.deepEqual([text.data.toString(), text.isBinary], ['to all', false]);
        assert.deepEqual([[...binary.data], binary.isBinary], [[1, 2, 3], true]);
      }
      if (!includesSender) {
        // The sender gets nothing: a ping round trip after the broadcasts shows its queue is empty.
        await withTimeout(new Promise<void>((resolve) => sender.ws.once('pong', () => resolve()).ping()), 3000, 'a pong');
        assert.equal(sender.messages.size, 0);
      }
    });
  }

  test('How to get the IP address of the client: req.socket.remoteAddress and X-Forwarded-For work (the example does not throw)', async (t) => {
    const example = await runExample(t, 'client-ip.mjs');
    const client = await openClient(t, `ws://127.0.0.1:${example.port}`, undefined, { headers: { 'X-Forwarded-For': '203.0.113.7, 10.0.0.1' } });
    await withTimeout(new Promise<void>((resolve) => client.ws.once('pong', () => resolve()).ping()), 3000, 'a pong after the connection listeners ran');
    assertAlive(example);
  });

  test('How to detect and close broken connections: a client that never answers pings is terminated, one that answers stays', async (t) => {
    const example = await runExample(t, 'heartbeat.mjs');
    const url = `ws://127.0.0.1:${example.port}`;
    const alive = await openClient(t, url);
    const silent = await openClient(t, url, undefined, { autoPong: false });
    let pings = 0;
    alive.ws.on('ping', () => pings++);
    const { code } = await withTimeout(silent.closed, 5000, 'the silent client to be terminated');
    assert.equal(code, 1006);
    assert.ok(pings >= 1, 'the answering client was pinged');
    assert.equal(alive.ws.readyState, alive.ws.OPEN);
  });
});
