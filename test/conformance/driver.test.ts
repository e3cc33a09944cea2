// Tests of the conformance driver itself: its codec, its matching, and that it catches misbehaving peers
// (a suite that cannot fail proves nothing). The peers here are scripted on raw sockets.
import assert from 'node:assert/strict';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { CATEGORIES, checkTables, selectCases } from './cases/index.js';
import { binary, text } from './cases/build.js';
import { deflateMessage, inflateMessage } from '../helpers/deflate-codec.js';
import { WebSocketServer } from 'ws';
import { OP, WireFrameReader, closePayload, type WireFrame } from '../helpers/wire-frames.js';
import { encodeFrame, type DriverRole } from './frame-spec.js';
import { DeflateCodec, checkClientOffer, checkServerResponse, deflateAgreement } from './deflate.js';
import { constants as zlibConstants, createDeflateRaw, createInflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
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
        const bytes = encodeFrame({ opcode: OP.BINARY, payload, fin: false, rsv2: true }, role);
        const decoder = new WireFrameReader(1 << 20);
        const frames: WireFrame[] = [];
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
    const decoder = new WireFrameReader(1024);
    const [f] = decoder.push(encodeFrame({ opcode: OP.TEXT, payload: 'hi', lengthBits: 64 }, 'server'));
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

type Script = (frame: WireFrame, reply: (spec: Parameters<typeof encodeFrame>[0]) => void, socket: Socket) => void;

/** A raw WebSocket server whose answers to each frame are scripted. */
async function scriptedServer(script: Script, answerExtensions?: (offer: string | undefined) => string | undefined): Promise<{ session: TargetSession; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    readHead(socket, 2000).then(
      ({ head, rest }) => {
        socket.write(upgradeResponse(head, answerExtensions?.(head.headers.get('sec-websocket-extensions'))));
        const decoder = new WireFrameReader(1 << 24);
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
  if (f.opcode === OP.TEXT || f.opcode === OP.BINARY) reply({ opcode: f.opcode, payload: f.payload });
  else if (f.opcode === OP.PING) reply({ opcode: OP.PONG, payload: f.payload });
  else if (f.opcode === OP.CLOSE) {
    reply({ opcode: OP.CLOSE, payload: f.payload.length >= 2 ? f.payload.subarray(0, 2) : closePayload(1000) });
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
      if (f.opcode === OP.TEXT) reply({ opcode: OP.TEXT, payload: f.payload, mask: 'always' });
      else goodEcho(f, reply, socket);
    });
    const r = await runCase(s, quick('1.1.2'), '1');
    assert.ok(!r.passed);
    assert.ok(r.problems.some((p) => p.includes('server sent a masked frame')), r.problems.join('; '));
  });

  test('a wrong close code is a failure', async () => {
    const s = await withServer((f, reply, socket) => {
      if (f.opcode === OP.TEXT) {
        reply({ opcode: OP.CLOSE, payload: closePayload(1000) });
        socket.end();
      } else goodEcho(f, reply, socket);
    });
    const r = await runCase(s, quick('6.3.1'), '6');
    assert.ok(!r.passed);
    assert.ok(r.problems.some((p) => p.includes('close code 1000, expected 1007')), r.problems.join('; '));
  });

  test('a server that answers invalid UTF-8 only at the end of the message does not fail fast', async () => {
    const s = await withServer((f, reply, socket) => {
      if (f.opcode === OP.CONTINUATION && f.fin) {
        reply({ opcode: OP.CLOSE, payload: closePayload(1007) });
        socket.end();
      } else if (f.opcode !== OP.TEXT && f.opcode !== OP.CONTINUATION) goodEcho(f, reply, socket);
    });
    const r = await runCase(s, { ...caseById('6.4.1'), outcome: { ...caseById('6.4.1').outcome, waitMs: 300 } as Case['outcome'] }, '6');
    assert.ok(!r.passed);
    assert.ok(r.problems.some((p) => p.includes('did not fail fast')), r.problems.join('; '));
  });

  test('a server that keeps TCP open after the closing handshake is a failure', async () => {
    const s = await withServer((f, reply) => {
      if (f.opcode === OP.CLOSE) reply({ opcode: OP.CLOSE, payload: f.payload.subarray(0, 2) });
    });
    const r = await runCase(s, quick('7.3.4'), '7');
    assert.ok(!r.passed);
    assert.ok(r.problems.some((p) => p.includes('did not close the TCP connection')), r.problems.join('; '));
  });

  test('a pong for an unsolicited pong is a failure', async () => {
    const s = await withServer((f, reply, socket) => {
      if (f.opcode === OP.PONG) reply({ opcode: OP.PONG, payload: f.payload });
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
            const decoder = new WireFrameReader(1 << 24);
            const onData = (d: Buffer): void => {
              for (const f of decoder.push(d)) {
                if (f.opcode === OP.CLOSE || f.opcode === OP.TEXT) socket.write(encodeFrame({ opcode: f.opcode, payload: f.payload, mask: 'never' }, 'client'));
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
      steps: [{ send: { opcode: OP.TEXT, payload: deflateMessage(msg), rsv1: true } }, { send: { opcode: OP.TEXT, payload: deflateMessage(`${msg} again`), rsv1: true } }],
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

// ------------------------------------------------------------------------------------------ permessage-deflate

describe('conformance driver: permessage-deflate rules (RFC 7692 §7.1)', () => {
  test('valid acceptances of an offer pass the check', () => {
    const ok: Array<[string, string]> = [
      ['permessage-deflate', 'permessage-deflate'],
      ['permessage-deflate; client_max_window_bits', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover'],
      ['permessage-deflate; client_max_window_bits', 'permessage-deflate; client_max_window_bits=10'],
      ['permessage-deflate; server_max_window_bits=10', 'permessage-deflate; server_max_window_bits=9'],
      ['permessage-deflate', 'permessage-deflate; server_max_window_bits=12'],
      ['permessage-deflate; server_no_context_takeover', 'permessage-deflate; server_no_context_takeover'],
      ['permessage-deflate; foo, permessage-deflate; server_max_window_bits=10', 'permessage-deflate; server_max_window_bits=10'],
      ['x-other, permessage-deflate', 'permessage-deflate'],
    ];
    for (const [offer, response] of ok) assert.deepEqual(checkServerResponse(offer, response), [], `${offer} → ${response}`);
    assert.deepEqual(checkServerResponse('permessage-deflate', null), [], 'declining is allowed');
  });

  test('invalid responses are caught', () => {
    const bad: Array<[string, string, RegExp]> = [
      ['permessage-deflate', 'x-other', /not offered/],
      ['permessage-deflate', 'permessage-deflate, permessage-deflate', /twice/],
      ['permessage-deflate', 'permessage-deflate; foo', /unknown parameter/],
      ['permessage-deflate; client_max_window_bits', 'permessage-deflate; client_max_window_bits', /without a value/],
      ['permessage-deflate', 'permessage-deflate; client_max_window_bits=10', /was not offered/],
      ['permessage-deflate; client_max_window_bits=10', 'permessage-deflate; client_max_window_bits=11', /above the offered/],
      ['permessage-deflate; server_max_window_bits=10', 'permessage-deflate', /was offered but is missing/],
      ['permessage-deflate; server_max_window_bits=10', 'permessage-deflate; server_max_window_bits=11', /above the offered/],
      ['permessage-deflate; server_no_context_takeover', 'permessage-deflate', /server_no_context_takeover was offered/],
      ['permessage-deflate', 'permessage-deflate; server_max_window_bits=08', /not 8-15/],
      ['permessage-deflate; server_max_window_bits=16', 'permessage-deflate', /no valid offer/],
    ];
    for (const [offer, response, why] of bad) {
      const problems = checkServerResponse(offer, response);
      assert.ok(problems.some((p) => why.test(p)), `${offer} → ${response}: ${problems.join('; ') || 'no problem found'}`);
    }
    assert.deepEqual(checkClientOffer('permessage-deflate; client_max_window_bits'), []);
    assert.equal(checkClientOffer('permessage-deflate; client_max_window_bits=16').length, 1);
  });

  test('the agreement is read for each side', () => {
    const header = 'permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12';
    assert.deepEqual(deflateAgreement(header, 'client'), { peerNoContextTakeover: true, peerWindowBits: 10, ownNoContextTakeover: false, ownWindowBits: 12 });
    assert.deepEqual(deflateAgreement(header, 'server'), { peerNoContextTakeover: false, peerWindowBits: 12, ownNoContextTakeover: true, ownWindowBits: 10 });
    assert.equal(deflateAgreement(null, 'client'), null);
  });

  /** Runs messages through a continued zlib stream (what a real peer with context takeover does). */
  async function streamed(kind: 'deflate' | 'inflate', windowBits: number, inputs: Buffer[]): Promise<Buffer[]> {
    const z = kind === 'deflate' ? createDeflateRaw({ windowBits }) : createInflateRaw({ windowBits });
    const outputs: Buffer[] = [];
    for (const input of inputs) {
      const chunks: Buffer[] = [];
      const onData = (c: Buffer): void => {
        chunks.push(c);
      };
      z.on('data', onData);
      z.write(kind === 'inflate' ? Buffer.concat([input, Buffer.from([0, 0, 0xff, 0xff])]) : input);
      await new Promise<void>((resolve) => z.flush(zlibConstants.Z_SYNC_FLUSH, () => resolve()));
      z.off('data', onData);
      const out = Buffer.concat(chunks);
      outputs.push(kind === 'deflate' ? out.subarray(0, out.length - 4) : out);
    }
    z.close();
    return outputs;
  }

  const corpus = (): Buffer[] => {
    const a = Buffer.from(JSON.stringify(Array.from({ length: 300 }, (_, i) => ({ id: i, name: `n${i % 7}` }))));
    const b = Buffer.alloc(3000);
    let x = 12345;
    for (let i = 0; i < b.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      b[i] = x >>> 24;
    }
    const c = Buffer.from(b.subarray(0, 200));
    return [a, b, a, b, Buffer.from('tail'), a, c, c];
  };

  for (const bits of [9, 12, 15]) {
    test(`the driver's context takeover (preset dictionaries) matches a continued zlib stream both ways (window ${bits} bits)`, async () => {
      const messages = corpus();
      // Driver compresses with takeover; a real continued inflate stream decodes it.
      const sender = new DeflateCodec({ peerNoContextTakeover: true, peerWindowBits: 15, ownNoContextTakeover: false, ownWindowBits: bits });
      const sent = messages.map((m) => sender.deflate(m));
      if (bits === 15) assert.ok(sent[2]!.length * 4 < sent[0]!.length, 'the repeated message refers to the first');
      else assert.ok(sent[7]!.length * 4 < sent[6]!.length, 'a short message refers to the previous one');
      const decoded = await streamed('inflate', bits, sent);
      decoded.forEach((d, i) => assert.ok(d.equals(messages[i]!), `message ${i} through a zlib stream`));
      // A real continued deflate stream compresses; the driver inflates with takeover.
      const received = await streamed('deflate', bits, messages);
      const reader = new DeflateCodec({ peerNoContextTakeover: false, peerWindowBits: bits, ownNoContextTakeover: true, ownWindowBits: 15 });
      received.forEach((r, i) => assert.ok(reader.inflate(r).equals(messages[i]!), `message ${i} from a zlib stream`));
    });
  }

  test('the driver catches a peer that uses a larger window than agreed, or keeps a context it promised not to keep', async () => {
    const m = corpus();
    const wide = deflateRawSync(Buffer.concat([m[1]!, m[1]!]), { finishFlush: zlibConstants.Z_SYNC_FLUSH, windowBits: 15 }).subarray(0, -4);
    const narrowReader = new DeflateCodec({ peerNoContextTakeover: true, peerWindowBits: 10, ownNoContextTakeover: true, ownWindowBits: 15 });
    assert.throws(() => narrowReader.inflate(wide), /too far back/);
    const [first, second] = await streamed('deflate', 15, [m[0]!, m[0]!]);
    const resetting = new DeflateCodec({ peerNoContextTakeover: true, peerWindowBits: 15, ownNoContextTakeover: true, ownWindowBits: 15 });
    assert.ok(resetting.inflate(first!).equals(m[0]!));
    assert.throws(() => resetting.inflate(second!), /too far back|invalid/);
    // With 8 bits the driver sends stored blocks only: nothing to refer to at all.
    const stored = new DeflateCodec({ peerNoContextTakeover: true, peerWindowBits: 15, ownNoContextTakeover: false, ownWindowBits: 8 });
    assert.ok(inflateRawSync(Buffer.concat([stored.deflate(m[0]!), Buffer.from([0, 0, 0xff, 0xff])]), { windowBits: 8, chunkSize: 64, finishFlush: zlibConstants.Z_SYNC_FLUSH }).equals(m[0]!));
  });
});

describe('conformance driver: catches misbehaving permessage-deflate servers', { concurrency: true }, () => {
  const sessions: TargetSession[] = [];
  after(async () => {
    for (const s of sessions) await s.stop();
  });

  /** A scripted server answering `answer` to any offer; echoes each message, compressed by `compress`. */
  async function deflateServer(answer: (offer: string | undefined) => string | undefined, compress: (data: Buffer) => Buffer | null): Promise<TargetSession> {
    const { session } = await scriptedServer((f, reply, socket) => {
      if (f.opcode === OP.TEXT || f.opcode === OP.BINARY) {
        // The answers below all carry client_no_context_takeover: each client message inflates on its own.
        const data = f.rsv1 ? inflateMessage(f.payload) : f.payload;
        const out = compress(data);
        reply({ opcode: f.opcode, payload: out ?? data, rsv1: out !== null });
      } else goodEcho(f, reply, socket);
    }, answer);
    sessions.push(session);
    return session;
  }
  const quick = (id: string): Case => ({ ...caseById(id), timeoutMs: 2000 });

  test('a correct scripted server passes a compression case', async () => {
    const s = await deflateServer(() => 'permessage-deflate; server_no_context_takeover; client_no_context_takeover', (d) => (d.length >= 1024 ? deflateMessage(d) : null));
    const r = await runCase(s, quick('12.1.5'), '12');
    assert.ok(r.passed, r.problems.join('; '));
  });

  test('a server using a 32 KiB window after agreeing to server_max_window_bits=9 is caught', async () => {
    const s = await deflateServer(() => 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9', (d) => (d.length >= 1024 ? deflateMessage(d, 15) : null));
    const r = await runCase(s, quick('13.3.1'), '13');
    assert.ok(!r.passed);
    assert.ok(r.problems.some((p) => p.includes('agreed window of 9 bits')), r.problems.join('; '));
  });

  test('a server keeping its context after agreeing to server_no_context_takeover is caught', async () => {
    const s = await deflateServer(
      () => 'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
      // Compress with a preset dictionary of everything echoed so far: a kept context.
      (() => {
        let history = Buffer.alloc(0);
        return (d: Buffer) => {
          const out = deflateRawSync(d, { finishFlush: zlibConstants.Z_SYNC_FLUSH, ...(history.length > 0 ? { dictionary: history.subarray(-32768) } : {}) }).subarray(0, -4);
          history = Buffer.concat([history, d]);
          return out;
        };
      })(),
    );
    const r = await runCase(s, quick('13.1.2'), '13');
    assert.ok(!r.passed);
    assert.ok(r.problems.some((p) => p.includes('no context takeover')), r.problems.join('; '));
  });

  test('a server answering server_max_window_bits above the offered value fails the handshake check', async () => {
    const s = await deflateServer(() => 'permessage-deflate; client_no_context_takeover; server_max_window_bits=12', () => null);
    const r = await runCase(s, quick('13.3.1'), '13');
    assert.ok(!r.passed);
    assert.ok(r.problems.some((p) => p.includes('above the offered 9')), r.problems.join('; '));
  });

  test('a server that echoes large messages uncompressed fails the compressedFrom check', async () => {
    const s = await deflateServer(() => 'permessage-deflate; server_no_context_takeover; client_no_context_takeover', () => null);
    const r = await runCase(s, quick('12.1.5'), '12');
    assert.ok(!r.passed);
    assert.ok(r.problems.some((p) => p.includes('arrived uncompressed')), r.problems.join('; '));
  });
});
