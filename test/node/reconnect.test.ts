/**
 * Reconnecting clients: the backoff as a pure function (deterministic random source), and
 * ReconnectingClient against a real server that is stopped and restarted on the same port
 * mid-test: the events of each attempt, the delays, queued sends delivered on the next
 * connection, the iterator form, and the cases that must not reconnect.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import {
  backoffDelay,
  type HandshakeDecision,
  ReconnectingClient,
  type ReconnectingClientOptions,
  WebSocketError,
  WebSocketServer,
  type WebSocket,
} from '../../src/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { nextEvent, withTimeout } from '../helpers/timing.js';

guardProcess();

describe('backoffDelay (pure)', () => {
  const never = () => 0;
  const almostOne = () => 0.999999;
  test('no jitter: initialDelay * factor^retry, capped at maxDelay', () => {
    const options = { initialDelay: 100, maxDelay: 1000, factor: 2, jitter: 0 };
    assert.deepEqual([0, 1, 2, 3, 4, 5, 10].map((retry) => backoffDelay(retry, options, almostOne)), [100, 200, 400, 800, 1000, 1000, 1000]);
  });

  test('jitter 0.5: each delay lies in [d/2, d]; the random source picks where', () => {
    const options = { initialDelay: 100, maxDelay: 1000, factor: 3, jitter: 0.5 };
    assert.deepEqual([0, 1, 2].map((retry) => backoffDelay(retry, options, never)), [100, 300, 900]);
    assert.deepEqual([0, 1, 2].map((retry) => backoffDelay(retry, options, almostOne)), [50, 150, 450]);
    assert.equal(backoffDelay(1, options, () => 0.5), 225);
  });

  test('full jitter (1): anywhere in [0, d]', () => {
    assert.equal(backoffDelay(3, { initialDelay: 10, jitter: 1 }, almostOne), 0);
    assert.equal(backoffDelay(3, { initialDelay: 10, jitter: 1 }, never), 80);
  });

  test('defaults: 1000 ms doubling to 30 s, jitter 0.5', () => {
    assert.equal(backoffDelay(0, {}, never), 1000);
    assert.equal(backoffDelay(1, {}, never), 2000);
    assert.equal(backoffDelay(20, {}, never), 30_000);
    assert.equal(backoffDelay(0, {}, almostOne), 500);
  });

  test('huge retry counts stay at maxDelay (no Infinity or NaN)', () => {
    assert.equal(backoffDelay(5000, { initialDelay: 1, maxDelay: 7, jitter: 0 }), 7);
    assert.equal(backoffDelay(5000, { initialDelay: 0, maxDelay: 7, jitter: 0 }), 0);
  });

  test('bad options are refused at construction (a TypeError, WSF_ERR_INVALID_OPTION, naming the option)', () => {
    for (const [name, reconnect] of Object.entries({ factor: { factor: 0.5 }, jitter: { jitter: 2 }, initialDelay: { initialDelay: -1 }, maxRetries: { maxRetries: -1 } })) {
      assert.throws(
        () => new ReconnectingClient('ws://127.0.0.1:1/', { reconnect }),
        (error: unknown) => error instanceof TypeError && (error as { code?: string }).code === 'WSF_ERR_INVALID_OPTION' && error.message.includes(`reconnect.${name}`),
      );
    }
  });
});

/** A server we can stop and start again on the same port, echoing and recording what arrives. */
class RestartableServer {
  wss: WebSocketServer | null = null;
  port = 0;
  readonly received: string[] = [];
  connections = 0;
  decide: (() => HandshakeDecision) | undefined;

  async start(): Promise<void> {
    const wss = new WebSocketServer({ closeTimeout: 200, ...(this.decide === undefined ? {} : { onHandshake: () => this.decide!() }) });
    wss.on('connection', (ws) => {
      this.connections++;
      ws.on('message', (data) => {
        this.received.push(String(data));
        ws.send(data);
      });
    });
    this.port = (await wss.listen({ host: '127.0.0.1', port: this.port })).port;
    this.wss = wss;
  }

  async stop(): Promise<void> {
    const wss = this.wss;
    this.wss = null;
    if (wss !== null) await withTimeout(wss.close(), 3000, 'the server to close');
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }
}

async function restartableServer(t: TestContext): Promise<RestartableServer> {
  const server = new RestartableServer();
  await server.start();
  t.after(() => server.stop());
  return server;
}

interface Recorded {
  events: string[];
  delays: number[];
  errors: Array<string | null>;
}

function client(t: TestContext, url: string, options: ReconnectingClientOptions): { client: ReconnectingClient; seen: Recorded } {
  const c = new ReconnectingClient(url, options);
  t.after(() => c.close());
  const seen: Recorded = { events: [], delays: [], errors: [] };
  c.on('connecting', (attempt) => seen.events.push(`connecting ${attempt}`));
  c.on('open', () => seen.events.push('open'));
  c.on('close', (code) => seen.events.push(`close ${code}`));
  c.on('reconnecting', ({ delay, error }) => {
    seen.events.push('reconnecting');
    seen.delays.push(delay);
    seen.errors.push(error?.code ?? null);
  });
  c.on('end', (error) => seen.events.push(`end ${error?.code ?? 'null'}`));
  return { client: c, seen };
}

/** Wait until `count` events named `event` have been emitted in total (bounded). */
async function eventCount(emitter: ReconnectingClient, event: 'reconnecting' | 'open' | 'connecting', count: number, ms: number): Promise<void> {
  let seen = 0;
  await withTimeout(
    new Promise<void>((resolve) => {
      const listener = () => {
        if (++seen >= count) {
          emitter.off(event, listener);
          resolve();
        }
      };
      emitter.on(event, listener);
    }),
    ms,
    `${count} '${event}' events`,
  );
}

const FAST = { initialDelay: 40, maxDelay: 160, factor: 2, jitter: 0 };

describe('ReconnectingClient against a server that stops and restarts', () => {
  test('a dropped connection is reconnected with backoff; sends made meanwhile are delivered in order on the new one', async (t) => {
    const server = await restartableServer(t);
    const { client: c, seen } = client(t, server.url, { reconnect: FAST });
    const firstOpen = nextEvent<[WebSocket]>(c, 'open', 3000);
    const [first] = await firstOpen;
    assert.equal(c.state, 'open');
    assert.equal(c.ws, first);
    const echoed = nextEvent<[string | Buffer, boolean]>(c, 'message', 2000);
    c.send('before');
    assert.deepEqual(await echoed, ['before', false]);

    // Stop the server: it closes the connection with 1001, then refuses connections.
    const failedTwice = eventCount(c, 'reconnecting', 3, 5000);
    await server.stop();
    await failedTwice;
    assert.equal(c.ws, null);
    assert.notEqual(c.state, 'open');
    assert.equal(c.send('queued 1'), true);
    c.send(Buffer.from('queued 2'), { binary: false });
    assert.equal(c.bufferedAmount, 16);

    const reopened = nextEvent<[WebSocket]>(c, 'open', 5000);
    await server.start();
    const [second] = await reopened;
    assert.notEqual(second, first);
    const third = nextEvent<[string | Buffer, boolean]>(c, 'message', 2000);
    c.send('after');
    await withTimeout((async () => {
      while (server.received.length < 4) await nextEvent(second, 'message', 2000);
    })(), 3000, 'the queued messages at the restarted server');
    await third;
    assert.deepEqual(server.received, ['before', 'queued 1', 'queued 2', 'after']);

    // The close was the server's 1001; the first retry waits initialDelay, then it doubles up to maxDelay.
    assert.deepEqual(seen.events.slice(0, 4), ['connecting 1', 'open', 'close 1001', 'reconnecting']);
    assert.equal(seen.errors[0], null, 'the first retry follows the drop');
    assert.ok(seen.errors.slice(1).every((code) => code === 'WSF_ERR_HANDSHAKE_CONNECTION'), seen.errors.join());
    const expected = [40, 80, 160, 160, 160, 160, 160, 160, 160, 160].slice(0, seen.delays.length);
    assert.deepEqual(seen.delays, expected);
    assert.equal(seen.events.at(-1), 'open');
    // Attempts are numbered from 1 after each open connection.
    const attempts = seen.events.filter((e) => e.startsWith('connecting'));
    assert.deepEqual(attempts, ['connecting 1', ...seen.delays.map((_, i) => `connecting ${i + 1}`)]);
  });

  test('close() ends it: the connection closes with 1000, no further attempt, "end" with null, send() throws', async (t) => {
    const server = await restartableServer(t);
    const { client: c, seen } = client(t, server.url, { reconnect: FAST });
    await nextEvent(c, 'open', 3000);
    const ended = nextEvent<[WebSocketError | null]>(c, 'end', 3000);
    c.close(1000, 'bye');
    assert.deepEqual(await ended, [null]);
    assert.equal(c.state, 'closed');
    assert.deepEqual(seen.events, ['connecting 1', 'open', 'close 1000', 'end null']);
    assert.throws(() => c.send('late'), (error: unknown) => error instanceof WebSocketError && error.code === 'WSF_ERR_NOT_OPEN');
    assert.equal(server.connections, 1);
  });

  test('close() while waiting to retry stops the retries', async (t) => {
    const server = await restartableServer(t);
    await server.stop();
    const { client: c, seen } = client(t, server.url, { reconnect: { ...FAST, initialDelay: 10_000 } });
    await nextEvent(c, 'reconnecting', 3000);
    const ended = nextEvent<[WebSocketError | null]>(c, 'end', 1000);
    c.close();
    assert.deepEqual(await ended, [null]);
    assert.deepEqual(seen.events, ['connecting 1', 'reconnecting', 'end null']);
  });

  test('maxRetries: 2 gives up after three failed attempts, with the last error', async (t) => {
    const server = await restartableServer(t);
    await server.stop();
    const { client: c, seen } = client(t, server.url, { reconnect: { ...FAST, maxRetries: 2 } });
    const errors: string[] = [];
    c.on('error', (error) => errors.push(error.code));
    const [error] = await nextEvent<[WebSocketError | null]>(c, 'end', 5000);
    assert.equal(error?.code, 'WSF_ERR_HANDSHAKE_CONNECTION');
    assert.match(error!.message, /ECONNREFUSED/);
    assert.deepEqual(seen.events, ['connecting 1', 'reconnecting', 'connecting 2', 'reconnecting', 'connecting 3', 'end WSF_ERR_HANDSHAKE_CONNECTION']);
    assert.deepEqual(errors, ['WSF_ERR_HANDSHAKE_CONNECTION', 'WSF_ERR_HANDSHAKE_CONNECTION', 'WSF_ERR_HANDSHAKE_CONNECTION']);
  });

  test('a 403 refusal is not retried; a 503 is, until the server accepts', async (t) => {
    const refusing = await restartableServer(t);
    await refusing.stop();
    refusing.decide = () => ({ status: 403 });
    await refusing.start();
    const { client: forbidden, seen } = client(t, refusing.url, { reconnect: FAST });
    const [error] = await nextEvent<[WebSocketError | null]>(forbidden, 'end', 3000);
    assert.equal(error?.code, 'WSF_ERR_HANDSHAKE_STATUS');
    assert.equal(error?.response?.status, 403);
    assert.deepEqual(seen.events, ['connecting 1', 'end WSF_ERR_HANDSHAKE_STATUS']);

    let refusals = 2;
    const busy = await restartableServer(t);
    await busy.stop();
    busy.decide = () => (refusals-- > 0 ? { status: 503, headers: { 'Retry-After': '1' } } : true);
    await busy.start();
    const { client: retrying, seen: retried } = client(t, busy.url, { reconnect: FAST });
    await nextEvent(retrying, 'open', 5000);
    assert.deepEqual(retried.events, ['connecting 1', 'reconnecting', 'connecting 2', 'reconnecting', 'connecting 3', 'open']);
    assert.deepEqual(retried.errors, ['WSF_ERR_HANDSHAKE_STATUS', 'WSF_ERR_HANDSHAKE_STATUS']);
  });

  test('the send queue is bounded: over queueLimit, send() throws WSF_ERR_NOT_OPEN', async (t) => {
    const server = await restartableServer(t);
    await server.stop();
    const { client: c } = client(t, server.url, { reconnect: { ...FAST, initialDelay: 10_000, queueLimit: 10 } });
    c.send('12345');
    c.send('67890');
    assert.throws(() => c.send('x'), (error: unknown) => error instanceof WebSocketError && error.code === 'WSF_ERR_NOT_OPEN' && /queue is full \(10 of 10 bytes\)/.test(error.message));
  });

  test('for await (const ws of client): one WebSocket per connection; leaving the loop closes the client', async (t) => {
    const server = await restartableServer(t);
    const { client: c, seen } = client(t, server.url, { reconnect: FAST });
    const seenConnections: WebSocket[] = [];
    await withTimeout(
      (async () => {
        for await (const ws of c) {
          seenConnections.push(ws);
          const reply = nextEvent<[string | Buffer]>(ws, 'message', 2000);
          ws.send(`hello ${seenConnections.length}`);
          assert.equal((await reply)[0], `hello ${seenConnections.length}`);
          if (seenConnections.length === 2) break;
          // The server drops this connection; the loop gets the next one.
          for (const peer of server.wss!.clients) peer.terminate();
        }
      })(),
      5000,
      'two connections through the iterator',
    );
    assert.equal(seenConnections.length, 2);
    assert.notEqual(seenConnections[0], seenConnections[1]);
    await nextEvent(c, 'end', 3000);
    assert.equal(c.state, 'closed');
    assert.equal(seen.events.at(-1), 'end null');
    assert.deepEqual(server.received, ['hello 1', 'hello 2']);
  });

  test('an aborted signal ends the client', async (t) => {
    const server = await restartableServer(t);
    const controller = new AbortController();
    const { client: c, seen } = client(t, server.url, { reconnect: FAST, signal: controller.signal });
    await nextEvent(c, 'open', 3000);
    const ended = nextEvent<[WebSocketError | null]>(c, 'end', 3000);
    controller.abort();
    assert.deepEqual(await ended, [null]);
    assert.deepEqual(seen.events, ['connecting 1', 'open', 'close 1000', 'end null']);
  });
});
