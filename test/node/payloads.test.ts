/**
 * Payload sizes and fragment counts end to end over loopback: wsforge client ↔ wsforge server,
 * and a raw client for the exact limits (decision: maxPayload 16 MiB, 65,536 fragments pass).
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { connect, type WebSocket } from '../../src/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { openRaw } from '../helpers/raw-peer.js';
import { echo, startServer } from '../helpers/server-fixture.js';
import { nextEvent } from '../helpers/timing.js';
import { clientFrame, OP } from '../helpers/wire-frames.js';

guardProcess();

const MiB = 1024 * 1024;

async function echoPair(t: TestContext) {
  const server = await startServer();
  echo(server.wss);
  t.after(() => server.stop());
  const client = await connect(`ws://127.0.0.1:${server.port}/`);
  t.after(() => client.terminate());
  return { server, client };
}

/** A raw client sends `bytes` to a server with the defaults; the message the server receives (a frame back fails). */
async function messageAtServer(t: TestContext, bytes: Buffer): Promise<Buffer> {
  const server = await startServer();
  t.after(() => server.stop());
  const received = new Promise<Buffer>((resolve) =>
    server.wss.on('connection', (ws: WebSocket) => ws.on('message', (data) => resolve(data as Buffer))),
  );
  const { peer } = await openRaw(server.port);
  t.after(() => peer.destroy());
  peer.write(bytes);
  return Promise.race([received, peer.nextFrame(20_000).then((f) => assert.fail(`server sent opcode ${f.opcode}`))]);
}

function patterned(length: number, seed: number): Buffer {
  const data = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) data[i] = (i * 31 + seed) & 0xff;
  return data;
}

describe('round trips of every length encoding (RFC 6455 §5.2)', () => {
  for (const length of [0, 1, 125, 126, 127, 65535, 65536, 65537, 16 * MiB]) {
    test(`RFC 6455 §5.2: a ${length}-byte binary and text message round-trip through client and server unchanged`, { timeout: 30_000 }, async (t) => {
      const { client } = await echoPair(t);
      const binary = patterned(length, 7);
      const text = 'é'.repeat(Math.floor(length / 2)) + (length % 2 === 1 ? 'x' : '');
      const replies: Array<[string | Buffer, boolean]> = [];
      const both = new Promise<void>((resolve) =>
        client.on('message', (data, isBinary) => {
          replies.push([data, isBinary]);
          if (replies.length === 2) resolve();
        }),
      );
      client.send(binary);
      client.send(text);
      await Promise.race([both, nextEvent(client, 'close', 25_000).then(() => assert.fail('connection closed'))]);
      assert.equal(replies[0]![1], true);
      assert.ok(Buffer.isBuffer(replies[0]![0]));
      assert.ok((replies[0]![0] as Buffer).equals(binary), 'binary payload intact');
      assert.equal(replies[1]![1], false);
      assert.equal(Buffer.byteLength(replies[1]![0] as string), length);
      assert.ok(replies[1]![0] === text, 'text payload intact');
    });
  }
});

describe('limits end to end (decision)', () => {
  test('decision: a message of exactly 16 MiB passes the default maxPayload; the server receives it whole', { timeout: 30_000 }, async (t) => {
    const payload = patterned(16 * MiB, 3);
    const data = await messageAtServer(t, clientFrame({ opcode: OP.BINARY, payload }));
    assert.ok(data.equals(payload));
  });

  test('decision: 16 MiB + 1 in two fragments → 1009 from the second header', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    peer.write(clientFrame({ opcode: OP.BINARY, fin: false, payload: Buffer.alloc(8 * MiB) }));
    peer.write(clientFrame({ opcode: OP.CONTINUATION, declaredLength: 8 * MiB + 1 }));
    assert.equal((await peer.nextClose(10_000)).code, 1009);
  });

  test('decision: a 4 MiB message as 65,536 fragments of 64 bytes passes with the defaults (raw client → server)', { timeout: 30_000 }, async (t) => {
    const expected = patterned(4 * MiB, 11);
    const frames: Buffer[] = [];
    for (let i = 0; i < 65_536; i++) {
      frames.push(clientFrame({ opcode: i === 0 ? OP.BINARY : OP.CONTINUATION, fin: i === 65_535, payload: expected.subarray(i * 64, i * 64 + 64) }));
    }
    const data = await messageAtServer(t, Buffer.concat(frames));
    assert.ok(data.equals(expected));
  });

  test('decision: a wsforge client with maxPayload 1000 refuses a 1001-byte echo with 1009', async (t) => {
    const server = await startServer();
    echo(server.wss);
    t.after(() => server.stop());
    const client = await connect(`ws://127.0.0.1:${server.port}/`, { maxPayload: 1000 });
    t.after(() => client.terminate());
    const closed = nextEvent<[number, string]>(client, 'close', 3000);
    client.send(Buffer.alloc(1000));
    client.send(Buffer.alloc(1001));
    const messages: unknown[] = [];
    client.on('message', (m) => messages.push(m));
    assert.equal((await closed)[0], 1009);
    assert.equal(messages.length, 1);
  });
});

describe('many connections at once', () => {
  test('RFC 6455 §5.6: 20 concurrent clients, 200 pipelined messages each: every client gets exactly its own echoes, in order', { timeout: 20_000 }, async (t) => {
    const server = await startServer();
    echo(server.wss);
    t.after(() => server.stop());
    const clients = await Promise.all(Array.from({ length: 20 }, () => connect(`ws://127.0.0.1:${server.port}/`)));
    t.after(() => clients.forEach((c) => c.terminate()));
    const results = await Promise.all(
      clients.map((client, c) => {
        const expected: Array<[string | Buffer, boolean]> = [];
        for (let i = 0; i < 200; i++) {
          // Short texts (encoded in place), small and mid-size binaries: all the output paths.
          if (i % 3 === 0) expected.push([`c${c}-m${i}-${'é'.repeat(i % 20)}`, false]);
          else if (i % 3 === 1) expected.push([Buffer.alloc(1 + (i % 200), (c * 7 + i) & 0xff), true]);
          else expected.push([Buffer.alloc(9000 + i, (c + i) & 0xff), true]);
        }
        const got: Array<[string | Buffer, boolean]> = [];
        const done = new Promise<void>((resolve) =>
          client.on('message', (data, isBinary) => {
            got.push([data, isBinary]);
            if (got.length === expected.length) resolve();
          }),
        );
        for (const [data, isBinary] of expected) client.send(data, { binary: isBinary });
        return done.then(() => ({ got, expected }));
      }),
    );
    for (const [c, { got, expected }] of results.entries()) assert.deepEqual(got, expected, `client ${c}`);
  });
});
