/** The command line (dist/cli/main.js): `wsforge serve` and `wsforge connect`, spawned with node. */
import assert from 'node:assert/strict';
import { get as httpGet } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { connect, type HandshakeRequest, type WebSocket } from '../../src/index.js';
import { runCli, type CliRun } from '../helpers/cli-process.js';
import { guardProcess } from '../helpers/process-guard.js';
import { startServer } from '../helpers/server-fixture.js';
import { nextEvent, waitUntil, withTimeout } from '../helpers/timing.js';

guardProcess();

async function serve(t: TestContext, extra: string[] = []): Promise<{ cli: CliRun; port: number }> {
  const cli = runCli(t, ['serve', '--port', '0', '--quiet', ...extra]);
  const match = await cli.waitForLine(/^listening on ws:\/\/127\.0\.0\.1:(\d+)$/);
  return { cli, port: Number(match[1]) };
}

async function client(t: TestContext, port: number): Promise<WebSocket> {
  const ws = await connect(`ws://127.0.0.1:${port}/`);
  t.after(() => ws.terminate());
  return ws;
}

function messages(ws: WebSocket): Array<[string | Buffer, boolean]> {
  const list: Array<[string | Buffer, boolean]> = [];
  ws.on('message', (data, isBinary) => list.push([data, isBinary]));
  return list;
}

/** Decision: failures print one line on stderr. */
function assertOneErrorLine(cli: CliRun): void {
  const lines = cli.stderr().split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `expected one stderr line, got: ${JSON.stringify(cli.stderr())}`);
  assert.match(lines[0]!, /^wsforge: /);
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('wsforge serve', () => {
  test('CLI: serve --port 0 prints "listening on ws://127.0.0.1:PORT"', async (t) => {
    const { port } = await serve(t);
    assert.ok(port > 0 && port < 65536);
  });

  test('CLI: GET / serves the HTML demo page', async (t) => {
    const { port } = await serve(t);
    const response = await withTimeout(
      new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        httpGet(`http://127.0.0.1:${port}/`, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
        }).on('error', reject);
      }),
      3000,
      'GET /',
    );
    assert.equal(response.status, 200);
    assert.match(response.type, /^text\/html/);
    assert.match(response.body, /^<!doctype html>/i);
    assert.match(response.body, /WebSocket/);
  });

  test('CLI: echo mode echoes text as text and binary as binary', async (t) => {
    const { port } = await serve(t, ['--mode', 'echo']);
    const ws = await client(t, port);
    const got = messages(ws);
    ws.send('hello cli');
    ws.send(Buffer.from([0, 1, 2, 255]));
    await waitUntil(() => got.length === 2, 3000, 'two echoes');
    assert.deepEqual(got, [['hello cli', false], [Buffer.from([0, 1, 2, 255]), true]]);
  });

  test('CLI: broadcast mode delivers each message to every client (sender included)', async (t) => {
    const { port } = await serve(t, ['--mode', 'broadcast']);
    const a = await client(t, port);
    const b = await client(t, port);
    const c = await client(t, port);
    const got = [messages(a), messages(b), messages(c)];
    a.send('from a');
    b.send(Buffer.from('from b'));
    await waitUntil(() => got.every((list) => list.length === 2), 3000, 'every client to get both messages');
    for (const list of got) {
      assert.deepEqual(
        list.sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
        [['from a', false], [Buffer.from('from b'), true]],
      );
    }
  });

  test('CLI: SIGTERM → every client receives close 1001 and the process exits 0', async (t) => {
    const { cli, port } = await serve(t);
    const a = await client(t, port);
    const b = await client(t, port);
    const closedA = nextEvent<[number, string]>(a, 'close', 5000);
    const closedB = nextEvent<[number, string]>(b, 'close', 5000);
    cli.child.kill('SIGTERM');
    assert.equal((await closedA)[0], 1001);
    assert.equal((await closedB)[0], 1001);
    assert.equal(await cli.exited(5000), 0);
  });

  test('CLI: SIGTERM with no clients exits 0', async (t) => {
    const { cli } = await serve(t);
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited(5000), 0);
  });

  test('CLI: serve --help prints usage and exits 0', async (t) => {
    const cli = runCli(t, ['serve', '--help']);
    assert.equal(await cli.exited(), 0);
    assert.match(cli.stdout(), /Usage: wsforge serve/);
    assert.match(cli.stdout(), /--port/);
  });

  for (const args of [['serve', '--port', 'abc'], ['serve', '--port', '70000'], ['serve', '--mode', 'shout'], ['serve', '--bogus'], ['serve', 'extra'], ['serve', '--tls-cert', 'x.pem'], ['frobnicate']]) {
    test(`CLI: bad arguments ${JSON.stringify(args.join(' '))} → one stderr line, exit 2`, async (t) => {
      const cli = runCli(t, args);
      assert.equal(await cli.exited(), 2);
      assertOneErrorLine(cli);
    });
  }

  test('CLI: serve on a port already in use → one stderr line, exit 1', async (t) => {
    const { port } = await serve(t);
    const cli = runCli(t, ['serve', '--port', String(port)]);
    assert.equal(await cli.exited(), 1);
    assertOneErrorLine(cli);
  });
});

describe('wsforge connect', () => {
  test('CLI: connect --echo echoes text and binary with the same type and exits 0 on a 1000 close', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const echoed = new Promise<Array<[string | Buffer, boolean]>>((resolve) => {
      server.wss.on('connection', (ws: WebSocket) => {
        const got: Array<[string | Buffer, boolean]> = [];
        ws.on('message', (data, isBinary) => {
          got.push([data, isBinary]);
          if (got.length === 2) {
            ws.close(1000, 'done');
            resolve(got);
          }
        });
        ws.send('ping me back');
        ws.send(Buffer.from([7, 7, 7]));
      });
    });
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${server.port}/`, '--echo']);
    assert.deepEqual(await withTimeout(echoed, 5000, 'the echoes'), [['ping me back', false], [Buffer.from([7, 7, 7]), true]]);
    assert.equal(await cli.exited(), 0);
  });

  test('CLI: connect exits 1 when the server closes with a code other than 1000/1001', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    server.wss.on('connection', (ws: WebSocket) => ws.close(4000, 'go away'));
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${server.port}/`, '--echo']);
    assert.equal(await cli.exited(), 1);
  });

  test('CLI: stdin lines are sent as text messages; received messages are printed; EOF closes with 1000 and exits 0', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const received: Array<[string | Buffer, boolean]> = [];
    let serverClose: [number, string] | null = null;
    server.wss.on('connection', (ws: WebSocket) => {
      ws.on('message', (data, isBinary) => {
        received.push([data, isBinary]);
        ws.send(`got ${String(data)}`);
      });
      ws.on('close', (code, reason) => (serverClose = [code, reason]));
    });
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${server.port}/`]);
    await waitUntil(() => server.wss.clients.size === 1, 5000, 'the CLI to connect');
    cli.child.stdin.write('first line\nsecond línea\n');
    await cli.waitForLine(/^got second línea$/);
    await cli.waitForLine(/^got first line$/);
    cli.child.stdin.end();
    assert.equal(await cli.exited(), 0);
    assert.deepEqual(received, [['first line', false], ['second línea', false]]);
    await waitUntil(() => serverClose !== null, 2000, 'the server close event');
    assert.equal(serverClose![0], 1000);
  });

  test('CLI: --binary sends stdin lines as binary messages; binary messages are printed as hex', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const received: Array<[string | Buffer, boolean]> = [];
    server.wss.on('connection', (ws: WebSocket) => {
      ws.on('message', (data, isBinary) => {
        received.push([data, isBinary]);
        ws.send(Buffer.from([0xde, 0xad]));
      });
    });
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${server.port}/`, '--binary']);
    await waitUntil(() => server.wss.clients.size === 1, 5000, 'the CLI to connect');
    cli.child.stdin.write('raw bytes\n');
    await cli.waitForLine(/^\[binary 2 bytes\] dead$/);
    cli.child.stdin.end();
    assert.equal(await cli.exited(), 0);
    assert.deepEqual(received, [[Buffer.from('raw bytes'), true]]);
  });

  test('CLI: -H "Name: value" and --subprotocol reach the server', async (t) => {
    const seen: HandshakeRequest[] = [];
    const server = await startServer({
      protocols: ['chat.v2'],
      onHandshake: (request: HandshakeRequest) => {
        seen.push(request);
        return true;
      },
    });
    t.after(() => server.stop());
    server.wss.on('connection', (ws: WebSocket) => ws.close(1000));
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${server.port}/room`, '-H', 'X-Token: s3cret', '--header', 'X-Other: two words', '--subprotocol', 'chat.v1', '--subprotocol', 'chat.v2', '--echo']);
    assert.equal(await cli.exited(), 0);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.headers['x-token'], 's3cret');
    assert.equal(seen[0]!.headers['x-other'], 'two words');
    assert.deepEqual(seen[0]!.protocols, ['chat.v1', 'chat.v2']);
    assert.equal(seen[0]!.path, '/room');
  });

  test('CLI: a refused connection → one stderr line, exit 1', async (t) => {
    const port = await freePort();
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${port}/`]);
    assert.equal(await cli.exited(), 1);
    assertOneErrorLine(cli);
    assert.match(cli.stderr(), /ECONNREFUSED/);
  });

  test('CLI: a failed handshake (403) → one stderr line naming the status, exit 1', async (t) => {
    const server = await startServer({ onHandshake: () => false });
    t.after(() => server.stop());
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${server.port}/`]);
    assert.equal(await cli.exited(), 1);
    assertOneErrorLine(cli);
    assert.match(cli.stderr(), /403/);
  });

  for (const url of ['not-a-url', 'ftp://127.0.0.1/', 'ws://127.0.0.1/#frag']) {
    test(`CLI: a bad URL ${JSON.stringify(url)} → one stderr line, exit 2`, async (t) => {
      const cli = runCli(t, ['connect', url]);
      assert.equal(await cli.exited(), 2);
      assertOneErrorLine(cli);
    });
  }

  for (const args of [['connect'], ['connect', 'ws://a/', 'ws://b/'], ['connect', 'ws://127.0.0.1:1/', '-H', 'no colon'], ['connect', 'ws://127.0.0.1:1/', '--timeout', '-5'], ['connect', 'ws://127.0.0.1:1/', '--nope']]) {
    test(`CLI: bad arguments ${JSON.stringify(args.join(' '))} → one stderr line, exit 2`, async (t) => {
      const cli = runCli(t, args);
      assert.equal(await cli.exited(), 2);
      assertOneErrorLine(cli);
    });
  }

  test('CLI: connect --help prints usage and exits 0; so does the top-level --help', async (t) => {
    const connectHelp = runCli(t, ['connect', '--help']);
    assert.equal(await connectHelp.exited(), 0);
    assert.match(connectHelp.stdout(), /Usage: wsforge connect <url>/);
    assert.match(connectHelp.stdout(), /--subprotocol/);
    const mainHelp = runCli(t, ['--help']);
    assert.equal(await mainHelp.exited(), 0);
    assert.match(mainHelp.stdout(), /wsforge serve/);
    assert.match(mainHelp.stdout(), /wsforge connect/);
  });
});
