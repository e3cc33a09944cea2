/**
 * Each program in examples/ does what its comments say: started as a user starts it (its own
 * process, `import 'wsforge'` resolved through the package's exports, PORT from the
 * environment), driven by wsforge's client over loopback, stopped by its PID with SIGTERM
 * (every client then gets 1001, RFC 6455 §7.4.1, and the process exits 0).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect, ErrorCode, WebSocketError } from '../../src/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { WsforgeRecorder } from '../interop/connection-recorders.js';
import { runProgram } from '../package/packed-package.js';
import { startExample, type RunningExample } from './example-process.js';

guardProcess();

/** A wsforge client recording what it receives. */
async function open(url: string, options: Parameters<typeof connect>[1] = {}): Promise<WsforgeRecorder> {
  return new WsforgeRecorder(await connect(url, options));
}

async function nextText(client: WsforgeRecorder, what?: string): Promise<string> {
  const message = await client.nextMessage(5000, what);
  assert.equal(message.isBinary, false, 'a text message');
  return message.data.toString('utf8');
}

async function nextJson(client: WsforgeRecorder, what?: string): Promise<unknown> {
  return JSON.parse(await nextText(client, what)) as unknown;
}

/** The handshake refusal `connect()` rejects with: its status, headers and body. */
async function refusal(url: string, options: Parameters<typeof connect>[1] = {}): Promise<NonNullable<WebSocketError['response']>> {
  const error = await connect(url, options).then(
    () => assert.fail(`${url} was accepted`),
    (rejected: unknown) => rejected,
  );
  assert.ok(error instanceof WebSocketError, String(error));
  assert.equal(error.code, ErrorCode.HANDSHAKE_STATUS);
  assert.ok(error.response !== undefined, 'the refusal carries the response');
  return error.response;
}

/** SIGTERM: the open clients get 1001 and the example exits 0. */
async function stopGracefully(example: RunningExample, clients: readonly WsforgeRecorder[]): Promise<void> {
  const exit = example.stop();
  for (const client of clients) assert.deepEqual(await client.waitForClose(), { code: 1001, reason: 'server shutting down' });
  assert.equal(await exit, 0);
}

describe('examples/', () => {
  test('the examples type-check against the published types (tsc -p examples, checkJs)', async () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const tsc = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url));
    const result = await runProgram(process.execPath, [tsc, '-p', 'examples'], root, 60_000);
    assert.equal(result.code, 0, `tsc -p examples:\n${result.stdout}${result.stderr}`);
  });

  for (const [name, framework] of [
    ['express.js', 'Express'],
    ['fastify.js', 'Fastify'],
  ] as const) {
    test(`${name}: ${framework} answers HTTP on the port wsforge serves WebSockets on (/echo), other paths get 404`, async (t) => {
      const example = await startExample(t, name);
      const base = `127.0.0.1:${example.port}`;
      const echo = await open(`ws://${base}/echo`);
      echo.ws.send('héllo ✓');
      assert.equal(await nextText(echo), 'héllo ✓');
      echo.ws.send(Buffer.from([0, 1, 255]));
      const binary = await echo.nextMessage();
      assert.deepEqual([binary.isBinary, [...binary.data]], [true, [0, 1, 255]]);

      const health = await fetch(`http://${base}/health`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { ok: true, connections: 1 });

      assert.equal((await refusal(`ws://${base}/elsewhere`)).status, 404);
      await stopGracefully(example, [echo]);
    });
  }

  test('hono.js: POST /broadcast reaches every WebSocket client on /live, and answers how many', async (t) => {
    const example = await startExample(t, 'hono.js');
    const base = `127.0.0.1:${example.port}`;
    const first = await open(`ws://${base}/live`);
    assert.deepEqual(await nextJson(first), { connected: 1 });
    const second = await open(`ws://${base}/live`);
    assert.deepEqual(await nextJson(second), { connected: 2 });

    const response = await fetch(`http://${base}/broadcast`, { method: 'POST', body: 'the news' });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { delivered: 2 });
    assert.equal(await nextText(first), 'the news');
    assert.equal(await nextText(second), 'the news');
    await stopGracefully(example, [first, second]);
  });

  test('auth.js: no token or a bad one is refused with 401 and WWW-Authenticate (RFC 6750 §3); a signed token in the header or the query is accepted', async (t) => {
    const secret = 'test secret';
    const example = await startExample(t, 'auth.js', { AUTH_SECRET: secret });
    const base = `ws://127.0.0.1:${example.port}/`;
    const tokenFor = (user: string): string => `${user}.${createHmac('sha256', secret).update(user).digest('base64url')}`;

    const missing = await refusal(base);
    assert.equal(missing.status, 401);
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="wsforge example"');
    const forged = await refusal(base, { headers: { Authorization: `Bearer mallory.${'A'.repeat(43)}` } });
    assert.equal(forged.status, 401);
    assert.equal(forged.headers['www-authenticate'], 'Bearer realm="wsforge example", error="invalid_token"');
    const renamed = await refusal(`${base}?token=${tokenFor('alice').replace(/^alice/, 'admin')}`);
    assert.equal(renamed.status, 401, 'a signature is only good for the name it was made for');

    const bob = await open(base, { headers: { Authorization: `Bearer ${tokenFor('bob')}` } });
    assert.equal(await nextText(bob), 'hello, bob');
    bob.ws.send('hi');
    assert.equal(await nextText(bob), 'bob said: hi');

    // The token it prints for alice is one the server accepts, in the query.
    const printed = /try: (ws:\/\/\S+)/.exec(example.stdout())?.[1];
    assert.ok(printed !== undefined, `auth.js printed a URL to try: ${example.stdout()}`);
    const alice = await open(printed);
    assert.equal(await nextText(alice), 'hello, alice');
    await stopGracefully(example, [bob, alice]);
  });

  test('chat.js: rooms on topics: joins announced to the room (joiner included), lines to the others in the room only, leaves announced (on leave and on close)', async (t) => {
    const example = await startExample(t, 'chat.js');
    const chat = (name: string): Promise<WsforgeRecorder> => open(`ws://127.0.0.1:${example.port}/chat?name=${name}`);
    const command = (client: WsforgeRecorder, value: object): void => void client.ws.send(JSON.stringify(value));

    assert.equal((await refusal(`ws://127.0.0.1:${example.port}/chat?name=no%20spaces`)).status, 400);

    const alice = await chat('alice');
    const bob = await chat('bob');
    const carol = await chat('carol');
    command(alice, { join: 'lobby' });
    assert.deepEqual(await nextJson(alice), { room: 'lobby', joined: 'alice', members: 1 });
    command(bob, { join: 'lobby' });
    assert.deepEqual(await nextJson(bob), { room: 'lobby', joined: 'bob', members: 2 });
    assert.deepEqual(await nextJson(alice), { room: 'lobby', joined: 'bob', members: 2 });
    command(carol, { join: 'games' });
    assert.deepEqual(await nextJson(carol), { room: 'games', joined: 'carol', members: 1 });

    command(carol, { say: 'hi', room: 'lobby' });
    assert.deepEqual(await nextJson(carol), { error: 'join lobby first' });

    command(bob, { say: 'hi all', room: 'lobby' });
    assert.deepEqual(await nextJson(alice), { room: 'lobby', from: 'bob', text: 'hi all' });
    // Carol joins the lobby after bob's line: the next thing carol and bob get is her join,
    // so bob's line reached neither carol (in another room) nor bob himself.
    command(carol, { join: 'lobby' });
    assert.deepEqual(await nextJson(carol), { room: 'lobby', joined: 'carol', members: 3 });
    assert.deepEqual(await nextJson(bob), { room: 'lobby', joined: 'carol', members: 3 });
    assert.deepEqual(await nextJson(alice), { room: 'lobby', joined: 'carol', members: 3 });

    alice.ws.close();
    await alice.waitForClose();
    assert.deepEqual(await nextJson(bob), { room: 'lobby', left: 'alice', members: 2 });
    assert.deepEqual(await nextJson(carol), { room: 'lobby', left: 'alice', members: 2 });
    command(bob, { leave: 'lobby' });
    assert.deepEqual(await nextJson(carol), { room: 'lobby', left: 'bob', members: 1 });
    await stopGracefully(example, [bob, carol]);
  });
});
