/**
 * The frame receiver with an RSV1 extension, and the parser corners around it (sans-I/O):
 * parsing pauses while a message is decoded and what arrives meanwhile waits in order
 * (RFC 7692 §6.2), discardData() after our close (RFC 6455 §7.1.2), stop(), a handler that takes
 * text as a region, the limits applied to what an extension outputs (close 1009), and observed
 * frames (the frame-level API). The decoder is the stepped test extension, answered by the test.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_PAYLOAD,
  ErrorCode,
  FrameReceiver,
  ProtocolSession,
  type ReceiverLimits,
  WebSocketError,
} from '../../src/protocol/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { type RecordedEvent, ReceiverRecorder } from '../helpers/session-recorder.js';
import { reversed, SteppedExtension } from '../helpers/stepped-extension.js';
import { clientFrame, closePayload, OP, parseWireFrames, readClose } from '../helpers/wire-frames.js';

guardProcess();

const LIMITS: ReceiverLimits = { maxPayload: DEFAULT_MAX_PAYLOAD, maxFragments: DEFAULT_MAX_FRAGMENTS };

/** A server-side receiver (masked frames) that counts onReceiverResumed calls. */
class ResumeCountingRecorder extends ReceiverRecorder {
  resumed = 0;
  override onReceiverResumed(): void {
    this.resumed++;
  }
}

function stepped(limits: ReceiverLimits = LIMITS): { receiver: FrameReceiver; recorder: ResumeCountingRecorder; extension: SteppedExtension } {
  const recorder = new ResumeCountingRecorder();
  const extension = new SteppedExtension();
  const receiver = new FrameReceiver(recorder, true, limits, extension);
  return { receiver, recorder, extension };
}

/** A compressed (RSV1) client frame whose payload the stepped extension decodes to `text`. */
function compressedFrame(text: string, options: { fin?: boolean; opcode?: number } = {}): Buffer {
  return clientFrame({ opcode: options.opcode ?? OP.TEXT, rsv1: true, fin: options.fin ?? true, payload: reversed(text) });
}

function messages(events: RecordedEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'message' ? [e.data.toString()] : []));
}

describe('parsing pauses while a message is decoded (RFC 7692 §6.2)', () => {
  test('RFC 7692 §6.2: bytes that arrive during a decode wait in order and are parsed after it; the owner is told it may read again', () => {
    const { receiver, recorder, extension } = stepped();
    const after = clientFrame({ opcode: OP.TEXT, payload: 'after' });
    const ping = clientFrame({ opcode: OP.PING, payload: 'p' });
    receiver.receive(Buffer.concat([compressedFrame('decoded first'), after]));
    assert.equal(receiver.isPaused, true);
    assert.equal(receiver.backlogSize, after.length, 'the rest of the chunk is held');
    receiver.receive(ping);
    assert.equal(receiver.backlogSize, after.length + ping.length);
    assert.equal(recorder.events.length, 0, 'nothing is reported ahead of the message being decoded');
    extension.finishDecode();
    assert.deepEqual(
      recorder.events.map((e) => e.type),
      ['message', 'message', 'ping'],
    );
    assert.deepEqual(messages(recorder.events), ['decoded first', 'after']);
    assert.equal(receiver.isPaused, false);
    assert.equal(receiver.backlogSize, 0);
    assert.equal(recorder.resumed, 1);
  });

  test('RFC 7692 §6.2: a second compressed message in the backlog pauses again; each decode is asked with the room left under maxPayload', () => {
    const { receiver, recorder, extension } = stepped({ maxPayload: 1000, maxFragments: 10 });
    receiver.receive(Buffer.concat([compressedFrame('one'), compressedFrame('two')]));
    assert.deepEqual(extension.decodes.map((d) => [d.payload.toString(), d.fin, d.limit]), [[reversed('one').toString(), true, 1000]]);
    extension.finishDecode();
    assert.equal(receiver.isPaused, true, 'paused again for the second message');
    assert.equal(recorder.resumed, 0);
    extension.finishDecode();
    assert.deepEqual(messages(recorder.events), ['one', 'two']);
    assert.equal(recorder.resumed, 1);
  });

  test('RFC 7692 §6.2: each frame of a compressed message is decoded in turn; the limit shrinks by what was decoded', () => {
    const { receiver, recorder, extension } = stepped({ maxPayload: 100, maxFragments: 10 });
    receiver.receive(compressedFrame('0123456789', { fin: false }));
    assert.deepEqual(extension.decodes.map((d) => [d.fin, d.limit]), [[false, 100]]);
    extension.finishDecode();
    receiver.receive(clientFrame({ opcode: OP.CONTINUATION, payload: reversed('abc') }));
    assert.deepEqual(extension.decodes.map((d) => [d.fin, d.limit]), [[true, 90]]);
    extension.finishDecode();
    assert.deepEqual(messages(recorder.events), ['0123456789abc']);
  });

  test('decision: an extension that outputs more than maxPayload (ignoring its limit) still fails the message with 1009', () => {
    const { receiver, recorder, extension } = stepped({ maxPayload: 10, maxFragments: 10 });
    receiver.receive(compressedFrame('x'));
    extension.finishDecode([Buffer.alloc(6, 0x61), Buffer.alloc(6, 0x62)]);
    assert.deepEqual(recorder.errors, [{ type: 'error', code: ErrorCode.MESSAGE_TOO_BIG, closeCode: 1009 }]);
    assert.equal(receiver.stopped, true);
  });

  for (const [name, output] of [
    ['an invalid byte', [Buffer.from([0x68, 0xff])]],
    ['a message ending inside a code point', [Buffer.from([0x68]), Buffer.from([0xc3])]],
  ] as const) {
    test(`RFC 6455 §8.1: decoded text is validated as it is decoded: ${name} → 1007`, () => {
      const { receiver, recorder, extension } = stepped();
      receiver.receive(compressedFrame('x'));
      extension.finishDecode([...output]);
      assert.deepEqual(recorder.errors, [{ type: 'error', code: ErrorCode.INVALID_UTF8, closeCode: 1007 }]);
      assert.deepEqual(recorder.messages, []);
    });
  }

  test('RFC 7692 §8: a decode error fails with its own code (invalid compressed data → 1007)', () => {
    const { receiver, recorder, extension } = stepped();
    receiver.receive(compressedFrame('x', { opcode: OP.BINARY }));
    extension.finishDecode(new WebSocketError(ErrorCode.INVALID_COMPRESSED_DATA, 'bad block'));
    assert.deepEqual(recorder.errors, [{ type: 'error', code: ErrorCode.INVALID_COMPRESSED_DATA, closeCode: 1007 }]);
    assert.equal(receiver.stopped, true);
  });

  test('API: an extension installed after the handshake with setExtension decodes RSV1 messages; without one RSV1 is 1002', () => {
    const recorder = new ReceiverRecorder();
    const receiver = new FrameReceiver(recorder, true, LIMITS);
    const extension = new SteppedExtension();
    receiver.setExtension(extension);
    receiver.receive(compressedFrame('late install'));
    extension.finishDecode();
    assert.deepEqual(messages(recorder.events), ['late install']);
    receiver.setExtension(null);
    receiver.receive(compressedFrame('no extension'));
    assert.deepEqual(recorder.errors, [{ type: 'error', code: ErrorCode.RESERVED_BITS, closeCode: 1002 }]);
  });
});

describe('discardData() and stop() (RFC 6455 §7.1.2)', () => {
  test('RFC 6455 §7.1.2: discardData() during a decode abandons it and parses the backlog at once: the peer\'s close is not held back', () => {
    const { receiver, recorder, extension } = stepped();
    receiver.receive(Buffer.concat([compressedFrame('abandoned'), clientFrame({ opcode: OP.TEXT, payload: 'dropped' })]));
    receiver.receive(clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
    receiver.discardData();
    assert.deepEqual(recorder.events, [{ type: 'close-frame', payload: closePayload(1000) }]);
    assert.equal(receiver.isPaused, false);
    extension.finishDecode();
    assert.deepEqual(messages(recorder.events), [], 'the late answer is ignored');
  });

  test('RFC 6455 §7.1.2: after discardData() data messages are parsed and dropped (plain, fragmented, compressed); control frames still arrive', () => {
    const { receiver, recorder, extension } = stepped();
    receiver.discardData();
    receiver.discardData();
    receiver.receive(
      Buffer.concat([
        clientFrame({ opcode: OP.TEXT, payload: 'plain' }),
        clientFrame({ opcode: OP.TEXT, fin: false, payload: 'frag' }),
        clientFrame({ opcode: OP.PING, payload: 'between' }),
        clientFrame({ opcode: OP.CONTINUATION, payload: 'ment' }),
        compressedFrame('never decoded'),
        clientFrame({ opcode: OP.TEXT, payload: Buffer.from([0xff]) }),
        clientFrame({ opcode: OP.PONG, payload: 'last' }),
      ]),
    );
    assert.equal(extension.decodes.length, 0);
    assert.deepEqual(
      recorder.events.map((e) => e.type),
      ['ping', 'pong'],
      'dropped without validation: invalid UTF-8 no longer fails the connection',
    );
  });

  test('RFC 6455 §7.1.2: with observeFrames on, dropped data frames are still reported as frames, not as messages', () => {
    const { receiver, recorder } = stepped();
    receiver.observeFrames = true;
    assert.equal(receiver.observeFrames, true);
    receiver.discardData();
    receiver.receive(Buffer.concat([clientFrame({ opcode: OP.TEXT, fin: false, payload: 'a' }), clientFrame({ opcode: OP.CONTINUATION, payload: 'b' })]));
    assert.deepEqual(
      recorder.events.map((e) => (e.type === 'frame' ? `${e.opcode}:${e.fin}:${e.payload.toString()}` : e.type)),
      ['1:false:a', '0:true:b'],
    );
    receiver.observeFrames = false;
    assert.equal(receiver.observeFrames, false);
  });

  test('RFC 6455 §5.5.1: after stop() nothing is parsed, and a decode answering later is ignored', () => {
    const { receiver, recorder, extension } = stepped();
    receiver.receive(compressedFrame('in flight'));
    receiver.stop();
    assert.equal(receiver.stopped, true);
    assert.equal(receiver.isPaused, false);
    receiver.receive(clientFrame({ opcode: OP.TEXT, payload: 'ignored' }));
    extension.finishDecode();
    assert.deepEqual(recorder.events, []);
  });
});

describe('a session whose decoder answers at once (RFC 6455 §7.1.2)', () => {
  test('RFC 6455 §7.1.2: close() from the message handler while a decoded message is delivered: later data is dropped, the peer\'s close completes it', () => {
    const extension = new SteppedExtension();
    extension.decodeAtOnce = true;
    const events: string[] = [];
    const output: Buffer[] = [];
    const session: ProtocolSession = new ProtocolSession('server', {
      onMessage: (data) => {
        events.push(`message ${String(data)}`);
        session.close(1000, 'done');
      },
      onPing: () => events.push('ping'),
      onPong: () => events.push('pong'),
      onFrame: () => events.push('frame'),
      onPeerClose: (code) => events.push(`peer-close ${code}`),
      onCloseSent: (code, reason) => events.push(`close-sent ${code} ${reason}`),
      onCloseHandshakeComplete: () => events.push('close-complete'),
      onProtocolError: (error) => events.push(`error ${error.code}`),
      onOutput: () => {},
      onReceiverResumed: () => events.push('resumed'),
    });
    session.setExtension(extension);
    session.receive(
      Buffer.concat([
        compressedFrame('first'),
        clientFrame({ opcode: OP.TEXT, payload: 'after close' }),
        compressedFrame('also dropped'),
        clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }),
      ]),
    );
    assert.deepEqual(events, ['message first', 'close-sent 1000 done', 'peer-close 1000', 'close-complete']);
    assert.equal(extension.decodeCalls, 1, 'only the first message was decoded');
    const taken = session.takeOutput();
    if (taken !== null) output.push(...(Array.isArray(taken) ? taken : [taken]));
    assert.deepEqual(parseWireFrames(Buffer.concat(output)).map(readClose), [{ code: 1000, reason: 'done' }]);
  });
});

describe('handlers, and large fragments', () => {
  test('API: a handler with onTextMessage gets a single-chunk text as a validated region of the chunk (ascii flagged)', () => {
    const regions: Array<[string, boolean]> = [];
    const recorder = new ReceiverRecorder();
    const handler = Object.assign(recorder, {
      onTextMessage(source: Buffer, start: number, end: number, ascii: boolean) {
        regions.push([source.toString('utf8', start, end), ascii]);
      },
    });
    const receiver = new FrameReceiver(handler, true, LIMITS);
    receiver.receive(Buffer.concat([clientFrame({ opcode: OP.TEXT, payload: 'plain' }), clientFrame({ opcode: OP.TEXT, payload: 'café' })]));
    assert.deepEqual(regions, [
      ['plain', true],
      ['café', false],
    ]);
    receiver.receive(Buffer.concat([clientFrame({ opcode: OP.TEXT, fin: false, payload: 'in ' }), clientFrame({ opcode: OP.CONTINUATION, payload: 'pieces' })]));
    assert.deepEqual(messages(recorder.events), ['in pieces'], 'an assembled message comes as bytes');
  });

  test('sans-I/O: fragments of 16 KiB and more are assembled intact, kept by reference or copied depending on their chunk', () => {
    const recorder = new ReceiverRecorder();
    const receiver = new FrameReceiver(recorder, true, LIMITS);
    const a = Buffer.alloc(20_000, 0x61);
    const b = Buffer.alloc(20_000, 0x62);
    const c = Buffer.alloc(30_000, 0x63);
    // a and b share one chunk (each less than half of it: copied); c has a chunk of its own (kept).
    receiver.receive(Buffer.concat([clientFrame({ opcode: OP.BINARY, fin: false, payload: a }), clientFrame({ opcode: OP.CONTINUATION, fin: false, payload: b })]));
    receiver.receive(clientFrame({ opcode: OP.CONTINUATION, payload: c }));
    assert.deepEqual(recorder.messages.map((m) => m.data), [Buffer.concat([a, b, c])]);
  });
});
