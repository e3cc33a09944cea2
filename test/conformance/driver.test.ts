// Tests of the conformance driver itself: its codec, its matching, and that it catches misbehaving peers
// (a suite that cannot fail proves nothing). The peers here are scripted on raw sockets.
import assert from 'node:assert/strict';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { CATEGORIES, checkTables, selectCases } from './cases/index.js';
import { binary, deflateMessage, text } from './cases/build.js';
import { WebSocketServer } from 'ws';
import { FrameDecoder, OP, closePayload, encodeFrame, type DecodedFrame, type DriverRole } from './frames.js';
import { clientHandshake, readHead, upgradeResponse } from './handshake.js';
import { matchItems, runCase } from './runner.js';
import { clientTarget, openServerCase, type TargetSession } from './targets.js';
import type { Case } from './types.js';
import type { ReceivedEvent } from './wire.js';

const caseById = (id: string): Case => {
  const found = selectCases(id).find(({ kase }) => kase.id === id);
  assert.ok(found, `no case ${id}`);
  return found.kase;
};

describe('conformance driver: frame codec', () => {
  for (const role of ['client', 'server'] as DriverRole[]) {
    test(`encode/decode round trip at every length boundary (${role} frames, fed one byte at a time)`, () => {
      for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
        const payload = Buffer.alloc(n, 0x5a);
        const bytes = encodeFrame({ opcode: OP.binary, payload, fin: false, rsv2: true }, role);
        const decoder = new FrameDecoder(1 << 20);
        const frames: DecodedFrame[] = [];
        for (let i = 0; i < bytes.length; i += n > 1000 ? 997 : 1) frames.push(...decoder.push(bytes.subarray(i, i + (n > 1000 ? 997 : 1))));
        assert.equal(frames.length, 1, `length ${n}`);
        const f = frames[0]!;
        assert.equal(f.masked, role === 'client');
        assert.equal(f.fin, false);
        assert.equal(f.rsv2, true);
        assert.equal(f.minimalLength, true);
        assert.ok(f.payload.equals(payload), `payload of length ${n}`);
      }
    });
  }

  test('a non-minimal length encoding is flagged', () => {
    const decoder = new FrameDecoder(1024);
    const [f] = decoder.push(encodeFrame({ opcode: OP.text, payload: 'hi', lengthEncoding: 64 }, 'server'));
    assert.equal(f!.minimalLength, false);
  });
});

describe('conformance driver: matching', () => {
  const ev = (kind: 'text' | 'binary', s: string): ReceivedEvent => ({ kind, data: Buffer.from(s), frames: 1, at: 0 });
  test('exact sequence, type and bytes', () => {
    assert.ok(matchItems([ev('text', 'a'), ev('binary', 'b')], [text('a'), binary('b')]));
    assert.ok(!matchItems([ev('binary', 'a')], [text('a')]));
    assert.ok(!matchItems([ev('text', 'a'), ev('text', 'a')], [text('a')]));
    assert.ok(!matchItems([], [text('a')]));
  });
  test('optional items may be missing, nothing else may be added', () => {
    assert.ok(matchItems([], [text('a', true)]));
    assert.ok(matchItems([ev('text', 'a')], [text('a', true)]));
    assert.ok(!matchItems([ev('text', 'b')], [text('a', true)]));
  });
  test('the case tables are consistent', () => {
    checkTables(CATEGORIES);
  });
});

// ------------------------------------------------------------------------------------------ scripted peers

type Script = (frame: DecodedFrame, reply: (spec: Parameters<typeof encodeFrame>[0]) => void, socket: Socket) => void;

/** A raw WebSocket server whose answers to each frame are scripted. */
async function scriptedServer(script: Script): Promise<{ session: TargetSession; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    readHead(socket, 2000).then(
      ({ head, rest }) => {
        socket.write(upgradeResponse(head));
        const decoder = new FrameDecoder(1 << 24);
        const reply = (spec: Parameters<typeof encodeFrame>[0]): void => {
          if (!socket.destroyed && socket.writable) socket.write(encodeFrame(spec, 'server'));
        };
        const onData = (d: Buffer): void => {
          for (const f of decoder.push(d)) script(f, reply, socket);
        };
        socket.on('data', onData);
        socket.resume();
        if (rest.length > 0) onData(rest);
      },
      () => socket.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const session: TargetSession = {
    name: 'scripted',
    side: 'server',
    describe: 'scripted server',
    open: (kase, t) => openServerCase('127.0.0.1', port, kase, t),
    health: () => null,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return { session, server };
}

/** Echo of unfragmented messages, pong for ping, close echo then TCP close: correct for simple cases. */
const goodEcho: Script = (f, reply, socket) => {
  if (f.opcode === OP.text || f.opcode === OP.binary) reply({ opcode: f.opcode, payload: f.payload });
  else if (f.opcode === OP.ping) reply({ opcode: OP.pong, payload: f.payload });
  else if (f.opcode === OP.close) {
    reply({ opcode: OP.close, payload: f.payload.length >= 2 ? f.payload.subarray(0, 2) : closePayload(1000) });
    socket.end();
  }
};

describe('conformance driver: catches misbehaving peers', { concurrency: true }, () => {
  const sessions: TargetSession[] = [];
  after(async () => {
    for (const s of sessions) await s.stop();
  });
  const withServer = async (script: Script): Promise<TargetSession> => {
    const { session } = await scriptedServer(script);
    sessions.push(session);
    return session;
  };
  const quick = (id: string, timeoutMs = 400): Case => ({ ...caseById(id), timeoutMs });

  test('a correct scripted echo server passes', async () => {
    const s = await withServer(goodEcho);
    for (const id of ['1.1.2', '1.2.6', '2.10', '7.3.4']) {
      const r = await runCase(s, quick(id, 2000), id.split('.')[0]!);
      assert.ok(r.passed, `${id}: ${r.problems.join('; ')}`);
    }
  });

  test('a masked frame from the server is a failure', async () => {
    const s = await withServer((f, reply, socket) => {
      if (f.opcode === OP.text) reply({ opcode: OP.text, payload: f.payload, mask: 'always' });
      else goodEcho(f, reply, socket);
    });
    const r = await runCase(s, quick('1.1.2'), '1');
    assert.ok(!r.passed);
    assert.ok(r.problems.some((p) => p.includes('server sent a masked frame')), r.problems.join('; '));
  });

  test('a wrong close code is a failure', async () => {
    const s = await withServer((f, reply, socket) => {
      if (f.opcode === OP.text) {
        reply({ opcode: OP.close, payload: closePayload(1000) });
        socket.end();
      } else goodEcho(f, reply, socket);
    });
    const r = await runCase(s, quick('6.3.1'), '6');
    assert.ok(!r.passed);
    assert.ok(r.problems.some((p) => p.includes('close code 1000, expected 1007')), r.problems.join('; '));
  });

  test('a server that answers invalid UTF-8 only at the end of the message does not fail fast', async () => {
    const s = await withServer((f, reply, socket) => {
      if (f.opcode === OP.continuation && f.fin) {
        reply({ opcode: OP.close, payload: closePayload(1007) });
        socket.end();
      } else if (f.opcode !== OP.text && f.opcode !== OP.continuation) goodEcho(f, reply, socket);
    });
    const r = await runCase(s, { ...caseById('6.4.1'), outcome: { ...caseById('6.4.1').outcome, waitMs: 300 } as Case['outcome'] }, '6');
    assert.ok(!r.passed);
    assert.ok(r.problems.some((p) => p.includes('did not fail fast')), r.problems.join('; '));
  });

  test('a server that keeps TCP open after the closing handshake is a failure', async () => {
    const s = await withServer((f, reply) => {
      if (f.opcode === OP.close) reply({ opcode: OP.close, payload: f.payload.subarray(0, 2) });
    });
    const r = await runCase(s, quick('7.3.4'), '7');
    assert.ok(!r.passed);
    assert.ok(r.problems.some((p) => p.includes('did not close the TCP connection')), r.problems.join('; '));
  });

  test('a pong for an unsolicited pong is a failure', async () => {
    const s = await withServer((f, reply, socket) => {
      if (f.opcode === OP.pong) reply({ opcode: OP.pong, payload: f.payload });
      else goodEcho(f, reply, socket);
    });
    const r = await runCase(s, quick('2.8'), '2');
    assert.ok(!r.passed);
    assert.ok(r.problems.some((p) => p.includes('item #1')), r.problems.join('; '));
  });

  test('a client that does not mask is a failure', async () => {
    const target = clientTarget('unmasking-client', 'raw client that echoes unmasked', [], async () => (url) => {
      const u = new URL(url);
      const socket = netConnect({ host: u.hostname, port: Number(u.port) });
      socket.on('error', () => {});
      socket.once('connect', () => {
        clientHandshake(socket, { host: u.hostname, port: Number(u.port), path: u.pathname, timeoutMs: 2000 }).then(
          ({ rest }) => {
            const decoder = new FrameDecoder(1 << 24);
            const onData = (d: Buffer): void => {
              for (const f of decoder.push(d)) {
                if (f.opcode === OP.close || f.opcode === OP.text) socket.write(encodeFrame({ opcode: f.opcode, payload: f.payload, mask: 'never' }, 'client'));
              }
            };
            socket.on('data', onData);
            socket.resume();
            onData(rest);
          },
          () => socket.destroy(),
        );
      });
      return {
        early: () => null,
        async stop() {
          socket.destroy();
          return { notes: [], problems: [] };
        },
      };
    });
    const session = await target.start();
    sessions.push(session);
    const r = await runCase(session, quick('1.1.2', 1000), '1');
    assert.ok(!r.passed);
    assert.ok(r.problems.some((p) => p.includes('client sent an unmasked frame')), r.problems.join('; '));
  });
});

describe('conformance driver: extension cases are data', () => {
  test('permessage-deflate offered in the handshake, compressed frames (RSV1) sent and the compressed echo inflated', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 0 } });
    wss.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d as Buffer, { binary: isBinary })));
    await new Promise<void>((resolve) => wss.on('listening', () => resolve()));
    const { port } = wss.address() as { port: number };
    const session: TargetSession = {
      name: 'ws-deflate',
      side: 'server',
      describe: 'ws with permessage-deflate',
      open: (kase, t) => openServerCase('127.0.0.1', port, kase, t),
      health: () => null,
      async stop() {},
    };
    const msg = 'Hello compressed world! Hello compressed world!';
    const kase: Case = {
      id: '12.0.1',
      description: 'two compressed text messages; the second echo uses the first as context',
      handshake: { offerExtensions: 'permessage-deflate; client_max_window_bits', expectExtensions: 'permessage-deflate' },
      steps: [{ send: { opcode: OP.text, payload: deflateMessage(msg), rsv1: true } }, { send: { opcode: OP.text, payload: deflateMessage(`${msg} again`), rsv1: true } }],
      outcome: { kind: 'echo', messages: [text(msg), text(`${msg} again`)] },
      timeoutMs: 2000,
    };
    try {
      const r = await runCase(session, kase, '12');
      assert.ok(r.passed, r.problems.join('; '));
      assert.ok(r.frames.some((f) => f.includes('RSV1')), 'the echo was compressed');
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
  });
});
