/**
 * `wsforge connect` flags through real child processes: --json, --origin, --max-payload, --ca,
 * -v, --ping-interval, --version; a wss:// URL to a server without TLS; a refusal with a chunked
 * body; the usage hint of an unknown command.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type HandshakeRequest, type WebSocket } from '../../src/index.js';
import { runCli } from '../helpers/cli-process.js';
import { startFakeServer } from '../helpers/fake-server.js';
import { guardProcess } from '../helpers/process-guard.js';
import { startServer } from '../helpers/server-fixture.js';
import { nextEvent, withTimeout } from '../helpers/timing.js';

guardProcess();

const repoFile = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const certPath = repoFile('test/fixtures/test-only-localhost.cert.pem');
const keyPath = repoFile('test/fixtures/test-only-localhost.key.pem');
const version = (JSON.parse(readFileSync(repoFile('package.json'), 'utf8')) as { version: string }).version;

/** Failures print one line on stderr. */
function oneStderrLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `expected one stderr line, got: ${JSON.stringify(stderr)}`);
  return lines[0]!;
}

describe('wsforge connect options', () => {
  test('--json: JSON objects and arrays are printed indented; other text as it came', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    server.wss.on('connection', (ws: WebSocket) => {
      ws.send('{"a":[1,{"b":true}],"s":"x"}');
      ws.send('[]');
      ws.send('{not json');
      ws.send('"a JSON string stays as is"');
      ws.send(Buffer.from([0xca, 0xfe]));
      ws.close(1000);
    });
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${server.port}/`, '--json']);
    assert.equal(await cli.exited(), 0);
    assert.equal(
      cli.stdout(),
      '{\n  "a": [\n    1,\n    {\n      "b": true\n    }\n  ],\n  "s": "x"\n}\n[]\n{not json\n"a JSON string stays as is"\n[binary 2 bytes] cafe\n',
    );
  });

  test('--origin sends the Origin header', async (t) => {
    const seen: HandshakeRequest[] = [];
    const server = await startServer({ onHandshake: (request: HandshakeRequest) => void seen.push(request) });
    t.after(() => server.stop());
    server.wss.on('connection', (ws: WebSocket) => ws.close(1000));
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${server.port}/`, '--origin', 'https://app.example.com', '--echo']);
    assert.equal(await cli.exited(), 0);
    assert.equal(seen[0]?.origin, 'https://app.example.com');
  });

  test('--max-payload 10: an 11-byte message closes the connection with 1009 (seen by the server), exit 1', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const closed = new Promise<number>((resolve) => {
      server.wss.on('connection', (ws: WebSocket) => {
        ws.on('close', (code) => resolve(code));
        ws.send('0123456789');
        ws.send('0123456789A');
      });
    });
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${server.port}/`, '--max-payload', '10']);
    assert.equal(await withTimeout(closed, 5000, 'the server close event'), 1009);
    assert.equal(await cli.exited(), 1);
    assert.equal(cli.stdout(), '0123456789\n');
  });

  test('--ca FILE trusts a self-signed server; without it the certificate is refused in one line that names --ca', async (t) => {
    const wss = new WebSocketServer();
    t.after(() => wss.close());
    const echoed = new Promise<string>((resolve) => {
      wss.on('connection', (ws: WebSocket) => {
        ws.on('message', (data) => {
          resolve(String(data));
          ws.close(1000);
        });
        ws.send('over TLS');
      });
    });
    const { port } = await wss.listen({ port: 0, host: '127.0.0.1', tls: { cert: readFileSync(certPath), key: readFileSync(keyPath) } });
    const refused = runCli(t, ['connect', `wss://127.0.0.1:${port}/`]);
    assert.equal(await refused.exited(), 1);
    assert.match(oneStderrLine(refused.stderr()), /certificate.*--ca FILE/);
    const trusted = runCli(t, ['connect', `wss://127.0.0.1:${port}/`, '--ca', certPath, '--echo']);
    assert.equal(await withTimeout(echoed, 5000, 'the echo over TLS'), 'over TLS');
    assert.equal(await trusted.exited(), 0);
  });

  test('--ca with a missing file → one stderr line, exit 1', async (t) => {
    const cli = runCli(t, ['connect', 'wss://127.0.0.1:1/', '--ca', '/nonexistent/ca.pem']);
    assert.equal(await cli.exited(), 1);
    assert.match(oneStderrLine(cli.stderr()), /^wsforge: --ca \/nonexistent\/ca\.pem: ENOENT$/);
  });

  test('wss:// to `wsforge serve` without TLS fails at once, in one line saying the server does not speak TLS', async (t) => {
    const server = runCli(t, ['serve', '--port', '0', '--quiet']);
    const port = Number((await server.waitForLine(/^listening on ws:\/\/127\.0\.0\.1:(\d+)$/))[1]);
    const started = performance.now();
    const cli = runCli(t, ['connect', `wss://127.0.0.1:${port}/`]);
    assert.equal(await cli.exited(5000), 1);
    assert.ok(performance.now() - started < 3000, 'not the 10 s handshake timeout');
    assert.equal(
      oneStderrLine(cli.stderr()),
      `wsforge: 127.0.0.1:${port} did not answer with TLS (ERR_SSL_WRONG_VERSION_NUMBER): is it a ws:// server? Try ws:// instead of wss://`,
    );
  });

  test('-v prints the request and response heads and the agreed subprotocol and extensions on stderr', async (t) => {
    const server = await startServer({ protocols: ['chat'], perMessageDeflate: true });
    t.after(() => server.stop());
    server.wss.on('connection', (ws: WebSocket) => ws.close(1000));
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${server.port}/room`, '-v', '--subprotocol', 'chat', '--deflate', '--echo']);
    assert.equal(await cli.exited(), 0);
    const lines = cli.stderr().split('\n');
    assert.equal(lines[0], '> GET /room HTTP/1.1');
    assert.ok(lines.includes(`> Host: 127.0.0.1:${server.port}`), cli.stderr());
    assert.ok(lines.includes('> Sec-WebSocket-Protocol: chat'), cli.stderr());
    assert.ok(lines.includes('> Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits'), cli.stderr());
    assert.ok(lines.includes('< HTTP/1.1 101 Switching Protocols'), cli.stderr());
    assert.ok(lines.some((l) => /^< sec-websocket-accept: [A-Za-z0-9+/]{27}=$/.test(l)), cli.stderr());
    assert.ok(lines.includes('< sec-websocket-protocol: chat'), cli.stderr());
    assert.ok(lines.includes('* subprotocol: chat'), cli.stderr());
    assert.ok(lines.includes('* extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover'), cli.stderr());
    assert.equal(lines.at(-2), 'closed: 1000');
  });

  test('--ping-interval 0.2: a silent connection gets a ping within the interval (seen by the server)', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const pinged = new Promise<number>((resolve) => {
      server.wss.on('connection', (ws: WebSocket) => {
        const opened = performance.now();
        ws.on('ping', () => resolve(performance.now() - opened));
      });
    });
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${server.port}/`, '--ping-interval', '0.2', '--echo']);
    const after = await withTimeout(pinged, 3000, 'a ping from the CLI');
    // The core's sweep runs at a fraction of the interval: the ping comes after about 0.2-0.3 s.
    assert.ok(after >= 150 && after < 1500, `first ping after ${after.toFixed(0)} ms`);
    cli.child.kill('SIGINT');
    assert.equal(await cli.exited(), 0);
  });

  test('--ping-interval with a bad value → one stderr line, exit 2', async (t) => {
    const cli = runCli(t, ['connect', 'ws://127.0.0.1:1/', '--ping-interval', 'soon']);
    assert.equal(await cli.exited(), 2);
    assert.equal(cli.stderr(), 'wsforge: --ping-interval must be a number of seconds >= 0, got "soon" (see wsforge connect --help)\n');
  });

  test('a refusal with a chunked body shows the decoded body, not the chunk sizes', async (t) => {
    const fake = await startFakeServer(async (peer) => {
      await peer.readHead();
      peer.socket.end('HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html\r\n\r\n11\r\n<html>nope</html>\r\n0\r\n\r\n');
    });
    t.after(() => fake.close());
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${fake.port}/`]);
    assert.equal(await cli.exited(), 1);
    assert.equal(oneStderrLine(cli.stderr()), 'wsforge: server answered "HTTP/1.1 403 Forbidden" instead of 101: "<html>nope</html>"');
  });

  test('wss:// to WebSocketServer.listen() without TLS (raw TCP) fails at once with the same line', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const started = performance.now();
    const cli = runCli(t, ['connect', `wss://127.0.0.1:${server.port}/`]);
    assert.equal(await cli.exited(5000), 1);
    assert.ok(performance.now() - started < 3000, 'not the 10 s handshake timeout');
    assert.match(oneStderrLine(cli.stderr()), /^wsforge: 127\.0\.0\.1:\d+ did not answer with TLS \(ERR_SSL_[A-Z_]+\): is it a ws:\/\/ server\? Try ws:\/\/ instead of wss:\/\/$/);
  });

  for (const args of [['--version'], ['connect', '--version'], ['serve', '--version']]) {
    test(`${args.join(' ')} prints "wsforge ${version}" and exits 0`, async (t) => {
      const cli = runCli(t, args);
      assert.equal(await cli.exited(), 0);
      assert.equal(cli.stdout(), `wsforge ${version}\n`);
    });
  }

  test('an unknown command gives its hint once', async (t) => {
    const cli = runCli(t, ['foo']);
    assert.equal(await cli.exited(), 2);
    assert.equal(cli.stderr(), 'wsforge: unknown command "foo" (see wsforge --help)\n');
  });

  test('a bad flag of a command points to that command\'s help', async (t) => {
    const cli = runCli(t, ['connect', 'ws://127.0.0.1:1/', '--max-payload', '0']);
    assert.equal(await cli.exited(), 2);
    assert.equal(cli.stderr(), 'wsforge: --max-payload must be an integer from 1 to 9007199254740991 (bytes), got "0" (see wsforge connect --help)\n');
  });

  test('the server sees the close code the CLI\'s --echo answers with (1000 echoed back)', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const connection = nextEvent<[WebSocket]>(server.wss, 'connection', 5000);
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${server.port}/`, '--echo']);
    const [ws] = await connection;
    const closed = nextEvent<[number, string]>(ws, 'close', 5000);
    ws.close(1000, 'bye');
    assert.deepEqual(await closed, [1000, 'bye']);
    assert.equal(await cli.exited(), 0);
  });
});
