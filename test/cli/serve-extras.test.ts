/**
 * `wsforge serve` beyond echo and broadcast, through a real child process: the client count
 * event stream the demo page shows, --subprotocol, the page's inline favicon, the log lines;
 * and the batching log writer on a real stream whose reader we control.
 */
import assert from 'node:assert/strict';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import { LogWriter } from '../../src/cli/log-writer.js';
import { connect } from '../../src/index.js';
import { runCli, type CliRun } from '../helpers/cli-process.js';
import { guardProcess } from '../helpers/process-guard.js';
import { exchange } from '../helpers/raw-peer.js';
import { nextEvent, waitUntil, withTimeout } from '../helpers/timing.js';

guardProcess();

async function serve(t: TestContext, extra: string[] = []): Promise<{ cli: CliRun; port: number }> {
  const cli = runCli(t, ['serve', '--port', '0', ...extra]);
  const match = await cli.waitForLine(/^listening on ws:\/\/127\.0\.0\.1:(\d+)$/);
  return { cli, port: Number(match[1]) };
}

/** The `data:` values of a text/event-stream, as they arrive. */
async function eventStream(t: TestContext, url: string): Promise<{ response: IncomingMessage; values: string[] }> {
  const response = await withTimeout(
    new Promise<IncomingMessage>((resolve, reject) => httpGet(url, resolve).on('error', reject)),
    3000,
    `GET ${url}`,
  );
  t.after(() => response.destroy());
  const values: string[] = [];
  let buffered = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    buffered += chunk;
    let end: number;
    while ((end = buffered.indexOf('\n\n')) !== -1) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      for (const line of event.split('\n')) if (line.startsWith('data: ')) values.push(line.slice(6));
    }
  });
  return { response, values };
}

describe('wsforge serve extras', () => {
  test('/_wsforge/clients streams the number of connected clients (text/event-stream): 0, 1, 2, then 1', async (t) => {
    const { port } = await serve(t, ['--quiet']);
    const { response, values } = await eventStream(t, `http://127.0.0.1:${port}/_wsforge/clients`);
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/event-stream/);
    await waitUntil(() => values.length === 1, 3000, 'the first count');
    assert.deepEqual(values, ['0']);
    const a = await connect(`ws://127.0.0.1:${port}/`);
    t.after(() => a.terminate());
    await waitUntil(() => values.at(-1) === '1', 3000, 'the count 1');
    const b = await connect(`ws://127.0.0.1:${port}/`);
    t.after(() => b.terminate());
    await waitUntil(() => values.at(-1) === '2', 3000, 'the count 2');
    const closed = nextEvent(a, 'close', 3000);
    a.close(1000);
    await closed;
    await waitUntil(() => values.at(-1) === '1', 3000, 'the count back to 1');
    assert.deepEqual([...new Set(values)], ['0', '1', '2']);
  });

  test('--subprotocol p: the first of the server\'s list that the client offers is agreed', async (t) => {
    const { port } = await serve(t, ['--quiet', '--subprotocol', 'chat.v2', '--subprotocol', 'chat.v1']);
    const ws = await connect(`ws://127.0.0.1:${port}/`, { protocols: ['chat.v1', 'chat.v2'] });
    t.after(() => ws.terminate());
    assert.equal(ws.protocol, 'chat.v2');
    const none = await connect(`ws://127.0.0.1:${port}/`, { protocols: ['other'] });
    t.after(() => none.terminate());
    assert.equal(none.protocol, '');
  });

  test('the demo page has an inline favicon (no /favicon.ico request) and offers the server\'s subprotocols', async (t) => {
    const { port } = await serve(t, ['--quiet', '--subprotocol', 'chat.v2', '--subprotocol', 'chat.v1']);
    const { head, body } = await exchange(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    assert.equal(head.status, 200);
    assert.match(body, /<link rel="icon" href="data:image\/svg\+xml,/);
    assert.match(body, /const SERVER_PROTOCOLS = \["chat\.v2","chat\.v1"\];/);
  });

  for (const command of [['serve', '--port', '0'], ['connect', 'ws://127.0.0.1:1/']]) {
    test(`${command[0]} --subprotocol that is not an HTTP token → one stderr line, exit 2`, async (t) => {
      const cli = runCli(t, [...command, '--subprotocol', 'chat</script>']);
      assert.equal(await cli.exited(15_000), 2);
      assert.equal(
        cli.stderr(),
        `wsforge: --subprotocol must be an HTTP token (no spaces, commas, quotes or brackets), got "chat</script>" (see wsforge ${command[0]} --help)\n`,
      );
    });
  }

  test('the log has one line per connection and per close, with the peer address, path and subprotocol', async (t) => {
    const { cli, port } = await serve(t, ['--subprotocol', 'chat']);
    const ws = await connect(`ws://127.0.0.1:${port}/room?x=1`, { protocols: ['chat'] });
    const closed = nextEvent(ws, 'close', 3000);
    ws.close(4001, 'bye');
    await closed;
    await cli.waitForLine(/^close 1 4001 "bye"$/);
    assert.match(cli.stdout(), /^listening on ws:\/\/127\.0\.0\.1:\d+\nconnection 1 from 127\.0\.0\.1 path \/room over h1 protocol chat\nclose 1 4001 "bye"\n$/);
  });
});

/** A real Writable whose reader we control: writes complete only once `release()` is called. */
function heldStream(): { stream: NodeJS.WriteStream; writes: string[]; release(): void } {
  const writes: string[] = [];
  const held: Array<() => void> = [];
  let released = false;
  const stream = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _encoding, callback) {
      if (chunk.length > 0) writes.push(chunk.toString('utf8'));
      if (released) callback();
      else held.push(callback);
    },
  });
  return {
    stream: stream as unknown as NodeJS.WriteStream,
    writes,
    release() {
      released = true;
      for (const callback of held.splice(0)) callback();
    },
  };
}

describe('LogWriter (the serve log)', () => {
  test('lines queued in one turn are written in one write, within the interval', async () => {
    const { stream, writes, release } = heldStream();
    const log = new LogWriter(stream, { intervalMs: 20 });
    for (let i = 0; i < 100; i++) log.line(`connection ${i}`);
    assert.deepEqual(writes, [], 'nothing written synchronously');
    await waitUntil(() => writes.length === 1, 2000, 'the batch');
    assert.equal(writes[0], Array.from({ length: 100 }, (_, i) => `connection ${i}\n`).join(''));
    release();
  });

  test('a reader that does not keep up: lines over maxBacklog are dropped and counted, then reported', async () => {
    const { stream, writes, release } = heldStream();
    const log = new LogWriter(stream, { intervalMs: 5, maxBacklog: 10 });
    log.line('first batch, held by the reader');
    log.flush();
    log.line('dropped 1');
    log.line('dropped 2');
    log.flush();
    assert.equal(writes.length, 1);
    release();
    await waitUntil(() => stream.writableLength === 0, 2000, 'the stream to drain');
    log.line('after');
    await withTimeout(log.flushed(), 2000, 'flushed()');
    assert.deepEqual(writes, ['first batch, held by the reader\n', '(2 log lines dropped: the output was not read fast enough)\nafter\n']);
  });
});
