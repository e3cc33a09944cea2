// Tests of the driver's HTTP/2 transport (RFC 8441) itself: against node:http2 servers scripted here it
// passes a correct echo, still catches a misbehaving peer over a stream, and refuses a handshake that is not
// an RFC 8441 acceptance.
import assert from 'node:assert/strict';
import { createSecureServer, type Http2SecureServer, type OutgoingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { after, describe, test } from 'node:test';
import { selectCases } from './cases/index.js';
import { OP, WireFrameReader, closePayload, type WireFrame } from '../helpers/wire-frames.js';
import { encodeFrame } from './frame-spec.js';
import { Http2Origin, openServerCaseHttp2, readCa } from './http2-transport.js';
import { runCase } from './runner.js';
import { ROOT, type TargetSession } from './targets.js';
import type { Case } from './types.js';
import { readFileSync } from 'node:fs';

const ca = readCa(ROOT);
const key = readFileSync(`${ROOT}test/fixtures/test-only-localhost.key.pem`);

const caseById = (id: string, timeoutMs = 1000): Case => {
  const found = selectCases(id).find(({ kase }) => kase.id === id);
  assert.ok(found, `no case ${id}`);
  return { ...found.kase, timeoutMs };
};

type Script = (frame: WireFrame, reply: (spec: Parameters<typeof encodeFrame>[0]) => void, stream: ServerHttp2Stream) => void;

/** Echo of unfragmented messages, pong for ping, close echo then END_STREAM. */
const goodEcho: Script = (f, reply, stream) => {
  if (f.opcode === OP.TEXT || f.opcode === OP.BINARY) reply({ opcode: f.opcode, payload: f.payload });
  else if (f.opcode === OP.PING) reply({ opcode: OP.PONG, payload: f.payload });
  else if (f.opcode === OP.CLOSE) {
    reply({ opcode: OP.CLOSE, payload: f.payload.length >= 2 ? f.payload.subarray(0, 2) : closePayload(1000) });
    stream.end();
  }
};

const servers: Http2SecureServer[] = [];
const started: TargetSession[] = [];
const sessions = new Set<ServerHttp2Session>();

async function scriptedServer(script: Script, options: { enableConnectProtocol?: boolean; response?: OutgoingHttpHeaders } = {}): Promise<TargetSession> {
  const server = createSecureServer({ cert: ca, key, settings: { enableConnectProtocol: options.enableConnectProtocol ?? true } });
  servers.push(server);
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.respond(options.response ?? { ':status': 200 });
    const decoder = new WireFrameReader(1 << 24);
    const reply = (spec: Parameters<typeof encodeFrame>[0]): void => {
      if (!stream.destroyed && stream.writable) stream.write(encodeFrame(spec, 'server'));
    };
    stream.on('data', (d: Buffer) => {
      for (const f of decoder.push(d)) script(f, reply, stream);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const origin = new Http2Origin('127.0.0.1', port, ca);
  const session: TargetSession = {
    name: 'scripted-h2',
    side: 'server',
    describe: 'scripted HTTP/2 server',
    open: (kase, t) => openServerCaseHttp2(origin, kase, t),
    health: () => null,
    async stop() {
      await origin.close();
    },
  };
  started.push(session);
  return session;
}

describe('conformance driver over HTTP/2', { concurrency: true, timeout: 30_000 }, () => {
  after(async () => {
    for (const s of started) await s.stop();
    for (const session of sessions) session.destroy();
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  });

  test('a correct scripted echo server over HTTP/2 passes', async () => {
    const s = await scriptedServer(goodEcho);
    for (const id of ['1.1.2', '1.2.6', '2.10', '7.3.4']) {
      const r = await runCase(s, caseById(id, 2000), id.split('.')[0]!);
      assert.ok(r.passed, `${id}: ${r.problems.join('; ')}`);
    }
  });

  test('a masked frame from the server is a failure over HTTP/2 too', async () => {
    const s = await scriptedServer((f, reply, stream) => {
      if (f.opcode === OP.TEXT) reply({ opcode: OP.TEXT, payload: f.payload, mask: 'always' });
      else goodEcho(f, reply, stream);
    });
    const r = await runCase(s, caseById('1.1.2'), '1');
    assert.ok(!r.passed);
    assert.ok(r.problems.some((p) => p.includes('server sent a masked frame')), r.problems.join('; '));
  });

  test('a server that never ends the stream after the close frames is a failure (END_STREAM is its TCP close)', async () => {
    const s = await scriptedServer((f, reply, stream) => {
      if (f.opcode === OP.CLOSE) reply({ opcode: OP.CLOSE, payload: closePayload(1000) });
      else goodEcho(f, reply, stream);
    });
    const r = await runCase(s, caseById('1.1.2', 300), '1');
    assert.ok(!r.passed);
    assert.ok(r.problems.some((p) => p.includes('did not close the TCP connection')), r.problems.join('; '));
  });

  test('RFC 8441 §5: a response with Sec-WebSocket-Accept, or not 200, is not an acceptance', async () => {
    const withAccept = await scriptedServer(goodEcho, { response: { ':status': 200, 'sec-websocket-accept': 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=' } });
    const r1 = await runCase(withAccept, caseById('1.1.2'), '1');
    assert.ok(r1.problems.some((p) => p.includes('Sec-WebSocket-Accept in an HTTP/2 response')), r1.problems.join('; '));
    const refused = await scriptedServer(goodEcho, { response: { ':status': 403 } });
    const r2 = await runCase(refused, caseById('1.1.2'), '1');
    assert.ok(r2.problems.some((p) => p.includes('expected :status 200, got 403')), r2.problems.join('; '));
  });

  test('RFC 8441 §3: a server without SETTINGS_ENABLE_CONNECT_PROTOCOL is reported as such', async () => {
    const s = await scriptedServer(goodEcho, { enableConnectProtocol: false });
    const r = await runCase(s, caseById('1.1.2'), '1');
    assert.ok(r.problems.some((p) => p.includes('SETTINGS_ENABLE_CONNECT_PROTOCOL')), r.problems.join('; '));
  });
});
