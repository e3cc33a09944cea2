// 12 and 13: permessage-deflate (RFC 7692), in the manner of Autobahn 12.* and 13.*.
//
// 12: permessage-deflate offered (by the fuzzing client) and accepted (by the fuzzing server) in its default
//     form; echo of compressible JSON-like text and less compressible binary of 16 B to 512 KiB, several messages
//     per case, whole and in compressed fragments; the RFC's own payload examples; compressed frames that are
//     wrong (RSV1 misplaced, invalid DEFLATE data, invalid UTF-8 after inflating).
// 13: the same echo under each parameter combination: the fuzzing client offers it to a server under test, the
//     fuzzing server answers it to a client under test; offers a server must decline; answers a client must refuse.
//
// The driver compresses what it sends with the agreed parameters of its side (window, context takeover) and
// inflates the peer's messages with the peer's (deflate.ts), so an echo only matches when both ends honour the
// agreement. Echoes of 1024 bytes or more must come back compressed (`compressedFrom`).
import { OP } from '../../helpers/wire-frames.js';
import type { Case, Category, DeflateStep, ExpectedItem, HandshakeSpec, Step } from '../types.js';
import { binary, binaryFrame, closeFrame, contFrame, pingFrame, send, text, textFrame } from './build.js';
import { deflateMessage } from '../../helpers/deflate-codec.js';
import { hexBytes } from '../../helpers/hex-bytes.js';
import { seededRandom } from '../../helpers/seeded-random.js';
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';

const KiB = 1024;
/** 12: the message sizes of Autobahn's 12.* (up to 512 KiB here). */
const SIZES_12 = [16, 64, 256, KiB, 4 * KiB, 8 * KiB, 16 * KiB, 32 * KiB, 64 * KiB, 128 * KiB, 256 * KiB, 512 * KiB];
/** Both ends compress messages from this size (wsforge's and ws's default threshold). */
const THRESHOLD = 1024;

// ------------------------------------------------------------------------------------------------ payloads

const cache = new Map<string, Buffer>();

/** Compressible text: JSON-like records with varying fields (ASCII, so any prefix is valid UTF-8). */
export function jsonLike(n: number, seed: number): Buffer {
  const key = `json:${n}:${seed}`;
  let b = cache.get(key);
  if (b === undefined) {
    const r = seededRandom(seed);
    const names = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
    let s = '[';
    while (s.length < n) {
      s += `{"id":${Math.floor(r() * 1e6)},"user":"${names[Math.floor(r() * names.length)]}","score":${(r() * 100).toFixed(3)},"tags":["t${Math.floor(r() * 50)}","t${Math.floor(r() * 50)}"],"active":${r() < 0.5}},`;
    }
    b = Buffer.from(s.slice(0, n), 'latin1');
    cache.set(key, b);
  }
  return b;
}

/** Less compressible binary: random bytes over 128 values with some repeated runs (compresses to ~90%). */
export function noisy(n: number, seed: number): Buffer {
  const key = `noisy:${n}:${seed}`;
  let b = cache.get(key);
  if (b === undefined) {
    const r = seededRandom(seed);
    b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = r() < 0.05 && i > 8 ? b[i - 8]! : Math.floor(r() * 128) * 2;
    cache.set(key, b);
  }
  return b;
}

interface Message {
  opcode: typeof OP.TEXT | typeof OP.BINARY;
  data: Buffer;
}

const textMessage = (data: Buffer): Message => ({ opcode: OP.TEXT, data });
const binaryMessage = (data: Buffer): Message => ({ opcode: OP.BINARY, data });

/** Several messages per case: fewer as they grow (about 2 MiB at most each way). */
function countFor(size: number): number {
  return Math.max(2, Math.min(10, Math.floor((2 * 1024 * KiB) / size)));
}

// ------------------------------------------------------------------------------------------------ case builders

/** Offered to a server under test and answered to a client under test in the default form. */
const DEFAULT_HANDSHAKE: HandshakeSpec = {
  offerExtensions: 'permessage-deflate; client_max_window_bits',
  expectExtensions: /^\s*permessage-deflate\s*(;|$)/,
  answerExtensions: 'permessage-deflate',
  expectOffer: /(^|,)\s*permessage-deflate\s*(;|,|$)/,
  clientOptions: { perMessageDeflate: true },
  clientCliArgs: ['--deflate'],
};

function weightFor(bytes: number): number {
  return bytes >= 2 * 1024 * KiB ? 6 : bytes >= 512 * KiB ? 3 : 1;
}

/** The driver sends `messages` compressed (optionally in compressed fragments); the peer echoes each. */
function echoCase(id: string, description: string, messages: Message[], handshake: HandshakeSpec, fragmentSize?: number): Case {
  const bytes = messages.reduce((n, m) => n + m.data.length, 0);
  return {
    id,
    description,
    needs: 'permessage-deflate',
    handshake,
    steps: messages.map((m): DeflateStep => ({ deflate: { opcode: m.opcode, payload: m.data, ...(fragmentSize !== undefined ? { fragmentSize } : {}) } })),
    outcome: {
      kind: 'echo',
      messages: messages.map((m): ExpectedItem => (m.opcode === OP.TEXT ? text(m.data) : binary(m.data))),
      compressedFrom: THRESHOLD,
    },
    weight: weightFor(bytes),
    timeoutMs: bytes >= 512 * KiB ? 15000 : 5000,
  };
}

const describeSize = (n: number): string => (n >= KiB ? `${n / KiB} KiB` : `${n} B`);

// ------------------------------------------------------------------------------------------------ 12

/** 12.1 text, 12.2 binary: each size, several messages, whole. */
function sizeCases(sub: number, kind: 'text' | 'binary'): Case[] {
  return SIZES_12.map((size, i) => {
    const messages = Array.from({ length: countFor(size) }, (_, k) =>
      kind === 'text' ? textMessage(jsonLike(size, 1000 * sub + 17 * i + k)) : binaryMessage(noisy(size, 1000 * sub + 17 * i + k)),
    );
    return echoCase(
      `12.${sub}.${i + 1}`,
      `${messages.length} compressed ${kind === 'text' ? 'JSON-like text' : 'binary'} messages of ${describeSize(size)} echoed (default parameters)`,
      messages,
      DEFAULT_HANDSHAKE,
    );
  });
}

/** 12.3: text and binary alternating, the compressed payload split in fragments (RSV1 on the first frame only). */
function fragmentedCases(): Case[] {
  const plan: Array<[number, number]> = [
    [KiB, 64],
    [16 * KiB, 256],
    [64 * KiB, 1000],
    [128 * KiB, 4096],
    [512 * KiB, 16 * KiB],
  ];
  return plan.map(([size, fragment], i) => {
    const messages = Array.from({ length: Math.min(6, countFor(size)) }, (_, k) =>
      k % 2 === 0 ? textMessage(jsonLike(size, 3000 + 10 * i + k)) : binaryMessage(noisy(size, 3000 + 10 * i + k)),
    );
    return echoCase(
      `12.3.${i + 1}`,
      `${messages.length} compressed messages of ${describeSize(size)} (text and binary) sent in compressed fragments of ${fragment} bytes (RFC 7692 §6.1)`,
      messages,
      DEFAULT_HANDSHAKE,
      fragment,
    );
  });
}

/** Handshake for cases with hand-made compressed frames, which refer to nothing before them. */
const RAW_FRAMES_HANDSHAKE: HandshakeSpec = DEFAULT_HANDSHAKE;

/** 12.4: RFC 7692 §7.2.3's payload examples, sent as they are (frames with RSV1). */
function rfcExampleCases(): Case[] {
  const hello = Buffer.from('Hello');
  const example = (id: string, description: string, steps: Step[], messages: ExpectedItem[], sides?: Array<'server' | 'client'>): Case => ({
    id,
    description,
    needs: 'permessage-deflate',
    handshake: RAW_FRAMES_HANDSHAKE,
    steps,
    outcome: { kind: 'echo', messages },
    ...(sides !== undefined ? { sides } : {}),
  });
  return [
    example('12.4.1', 'RFC 7692 §7.2.3.1: "Hello" compressed in one frame (f2 48 cd c9 c9 07 00)', [send(textFrame(hexBytes('f2 48 cd c9 c9 07 00'), { rsv1: true }))], [text(hello)]),
    example(
      '12.4.2',
      'RFC 7692 §7.2.3.1: "Hello" compressed and fragmented (RSV1 on the first frame only)',
      [send(textFrame(hexBytes('f2 48 cd'), { rsv1: true, fin: false })), send(contFrame(hexBytes('c9 c9 07 00')))],
      [text(hello)],
    ),
    example(
      '12.4.3',
      'RFC 7692 §7.2.3.2: two "Hello" sharing the window (needs the driver\'s context takeover: client targets)',
      [send(textFrame(hexBytes('f2 48 cd c9 c9 07 00'), { rsv1: true })), send(textFrame(hexBytes('f2 00 11 00 00'), { rsv1: true }))],
      [text(hello), text(hello)],
      ['client'],
    ),
    example('12.4.4', 'RFC 7692 §7.2.3.3: a DEFLATE block with no compression', [send(textFrame(hexBytes('00 05 00 fa ff 48 65 6c 6c 6f 00'), { rsv1: true }))], [text(hello)]),
    example(
      '12.4.5',
      'RFC 7692 §7.2.3.4: a DEFLATE block with BFINAL set, then more compressed messages',
      [
        send(textFrame(hexBytes('f3 48 cd c9 c9 07 00 00'), { rsv1: true })),
        send(textFrame(hexBytes('f2 48 cd c9 c9 07 00'), { rsv1: true })),
        send(binaryFrame(hexBytes('f3 48 cd c9 c9 07 00 00'), { rsv1: true })),
      ],
      [text(hello), text(hello), binary(hello)],
    ),
    example('12.4.6', 'RFC 7692 §7.2.3.5: two DEFLATE blocks in one message', [send(textFrame(hexBytes('f2 48 05 00 00 00 ff ff ca c9 c9 07 00'), { rsv1: true }))], [text(hello)]),
    example(
      '12.4.7',
      'RFC 7692 §7.2.3.6: an empty compressed message (00), text and binary',
      [send(textFrame(hexBytes('00'), { rsv1: true })), send(binaryFrame(hexBytes('00'), { rsv1: true }))],
      [text(''), binary('')],
    ),
    example(
      '12.4.8',
      'a compressed message whose first frame is empty (RSV1), the data in continuations, a ping in between',
      [
        send(textFrame('', { rsv1: true, fin: false })),
        send(contFrame(hexBytes('f2 48'), { fin: false })),
        send(pingFrame('between')),
        send(contFrame(hexBytes('cd c9 c9 07 00'))),
      ],
      [{ type: 'pong', data: Buffer.from('between') }, text(hello)],
    ),
    example(
      '12.4.9',
      'compressed and uncompressed messages mixed on one connection',
      [send(textFrame('plain')), send(textFrame(hexBytes('f2 48 cd c9 c9 07 00'), { rsv1: true })), send(binaryFrame(Buffer.from([1, 2, 3])))],
      [text('plain'), text(hello), binary(Buffer.from([1, 2, 3]))],
    ),
  ];
}

/** 12.5: compressed frames that are wrong. */
function invalidCases(): Case[] {
  const big = deflateMessage(jsonLike(4 * KiB, 5));
  const failing = (id: string, description: string, steps: Step[], codes: number[], messages: ExpectedItem[] = []): Case => ({
    id,
    description,
    needs: 'permessage-deflate',
    handshake: RAW_FRAMES_HANDSHAKE,
    steps,
    outcome: { kind: 'close', codes, messages },
  });
  return [
    failing(
      '12.5.1',
      'RSV1 on a continuation frame of a compressed message (RFC 7692 §6.1) → 1002',
      [send(textFrame(big.subarray(0, 16), { rsv1: true, fin: false })), send(contFrame(big.subarray(16), { rsv1: true }))],
      [1002],
    ),
    failing('12.5.2', 'RSV1 on a continuation frame of an uncompressed message → 1002', [send(textFrame('plain', { fin: false })), send(contFrame(deflateMessage('x'), { rsv1: true }))], [1002]),
    failing('12.5.3', 'RSV1 on a ping (RFC 7692 §6.1: control frames are never compressed) → 1002', [send(pingFrame(deflateMessage('ping'), { rsv1: true }))], [1002]),
    failing('12.5.4', 'RSV1 on a close frame → 1002', [send(closeFrame(1000, '', { rsv1: true }))], [1002]),
    failing('12.5.5', 'invalid DEFLATE data: a reserved block type (BTYPE 11) → 1007', [send(binaryFrame(hexBytes('ff ff ff ff ff'), { rsv1: true }))], [1007]),
    failing('12.5.6', 'invalid DEFLATE data: stored block lengths that disagree → 1007', [send(binaryFrame(hexBytes('00 05 00 00 00 48 65 6c 6c 6f'), { rsv1: true }))], [1007]),
    failing(
      '12.5.7',
      'a compressed text message that inflates to invalid UTF-8 → 1007',
      [send(textFrame(deflateMessage(Buffer.concat([jsonLike(2 * KiB, 6), Buffer.from([0xed, 0xa0, 0x80])])), { rsv1: true }))],
      [1007],
    ),
    failing(
      '12.5.8',
      'a valid compressed message, then one whose data refers before its start (no context to refer to) → echo, then 1007',
      [
        send(textFrame(deflateMessage('Hello'), { rsv1: true })),
        send(textFrame(deflateRawSync(Buffer.from('Hello Hello'), { finishFlush: zlibConstants.Z_SYNC_FLUSH, dictionary: Buffer.from('Hello Hello') }).subarray(0, -4), { rsv1: true })),
      ],
      [1007],
      [text('Hello')],
    ),
  ];
}

export const compression: Category = {
  id: '12',
  name: 'permessage-deflate: payloads and framing',
  cases: [...sizeCases(1, 'text'), ...sizeCases(2, 'binary'), ...fragmentedCases(), ...rfcExampleCases(), ...invalidCases()],
};

// ------------------------------------------------------------------------------------------------ 13

/** Text and binary of each size, then all of them again (a window taken over holds the first round). */
function messages13(seed: number): Message[] {
  const round: Message[] = [];
  [16, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB].forEach((size, i) => {
    round.push(textMessage(jsonLike(size, seed + i)), binaryMessage(noisy(size, seed + i)));
  });
  return [...round, ...round];
}

/**
 * A parameter combination: `params` is offered by the fuzzing client and answered by the fuzzing server (the
 * same text is a valid offer and a valid answer, except as noted), each side checked by the RFC 7692 rules.
 */
function paramCase(id: string, params: string, sides: Array<'server' | 'client'> = ['server', 'client'], expectOffer?: RegExp): Case {
  const header = `permessage-deflate${params === '' ? '' : `; ${params}`}`;
  const kase = echoCase(id, `echo with ${header}${sides.length === 1 ? ` (${sides[0]} side)` : ''}`, messages13(Number(id.replace(/\./g, ''))), {
    ...DEFAULT_HANDSHAKE,
    offerExtensions: header,
    answerExtensions: header,
    ...(expectOffer !== undefined ? { expectOffer } : {}),
  });
  return { ...kase, sides };
}

const WINDOWS = [9, 10, 11, 12, 13, 14, 15];
/** The client must have offered client_max_window_bits for an answer to carry it (RFC 7692 §7.1.2.2). */
const OFFERS_CLIENT_WINDOW = /permessage-deflate[^,]*client_max_window_bits/;

function parameterCases(): Case[] {
  const cases: Case[] = [
    paramCase('13.1.1', ''),
    paramCase('13.1.2', 'server_no_context_takeover'),
    paramCase('13.1.3', 'client_no_context_takeover'),
    paramCase('13.1.4', 'server_no_context_takeover; client_no_context_takeover'),
    // A bare client_max_window_bits is an offer only (a response needs a value).
    paramCase('13.1.5', 'client_max_window_bits', ['server']),
  ];
  WINDOWS.forEach((w, i) => cases.push(paramCase(`13.2.${i + 1}`, `client_max_window_bits=${w}`, ['server', 'client'], OFFERS_CLIENT_WINDOW)));
  WINDOWS.forEach((w, i) => cases.push(paramCase(`13.3.${i + 1}`, `server_max_window_bits=${w}`)));
  WINDOWS.forEach((w, i) =>
    cases.push(
      paramCase(
        `13.4.${i + 1}`,
        `server_no_context_takeover; client_no_context_takeover; server_max_window_bits=${w}; client_max_window_bits=${w}`,
        ['server', 'client'],
        OFFERS_CLIENT_WINDOW,
      ),
    ),
  );
  // Different windows each way, context kept both ways.
  WINDOWS.forEach((w, i) => cases.push(paramCase(`13.5.${i + 1}`, `server_max_window_bits=${w}; client_max_window_bits=${24 - w}`, ['server', 'client'], OFFERS_CLIENT_WINDOW)));

  // 13.6: several offers: the server accepts one that is valid (RFC 7692 §5), checked against it.
  const multi = (id: string, offer: string, description: string): Case => ({
    ...echoCase(id, description, messages13(600 + Number(id.slice(-1))), { ...DEFAULT_HANDSHAKE, offerExtensions: offer }),
    sides: ['server'],
  });
  cases.push(
    multi('13.6.1', 'permessage-deflate; foo, permessage-deflate; server_max_window_bits=10', 'first offer invalid (unknown parameter): the second is accepted (server_max_window_bits at most 10)'),
    multi('13.6.2', 'permessage-deflate; server_max_window_bits=16, permessage-deflate; client_max_window_bits=9', 'first offer invalid (window 16): the second is accepted'),
    multi('13.6.3', 'permessage-deflate; server_max_window_bits=9; client_max_window_bits=9, permessage-deflate', 'two valid offers: either is accepted'),
    multi('13.6.4', 'x-unknown-extension; a=1, permessage-deflate', 'an unknown extension before permessage-deflate: permessage-deflate is accepted, the other not'),
  );

  // 13.7: offers a server must decline (RFC 7692 §7: unknown parameter, invalid value, duplicate): the
  // connection opens without the extension and messages go uncompressed.
  const declined: Array<[string, string]> = [
    ['unknown parameter', 'permessage-deflate; foo'],
    ['server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=16'],
    ['server_max_window_bits=08 (leading zero)', 'permessage-deflate; server_max_window_bits=08'],
    ['server_max_window_bits without a value', 'permessage-deflate; server_max_window_bits'],
    ['client_max_window_bits=7', 'permessage-deflate; client_max_window_bits=7'],
    ['a value on server_no_context_takeover', 'permessage-deflate; server_no_context_takeover=1'],
    ['a parameter twice', 'permessage-deflate; client_no_context_takeover; client_no_context_takeover'],
  ];
  declined.forEach(([what, offer], i) =>
    cases.push({
      id: `13.7.${i + 1}`,
      description: `offer with ${what}: declined, the connection works without compression`,
      sides: ['server'],
      needs: 'permessage-deflate',
      handshake: { offerExtensions: offer, expectExtensions: null },
      steps: [send(textFrame(jsonLike(4 * KiB, 70 + i))), send(binaryFrame(noisy(2 * KiB, 70 + i)))],
      outcome: { kind: 'echo', messages: [text(jsonLike(4 * KiB, 70 + i)), binary(noisy(2 * KiB, 70 + i))] },
    }),
  );

  // 13.8: answers a client must refuse (RFC 6455 §4.1 and §9.1, RFC 7692 §7.1): it fails the connection (closes
  // TCP) and echoes nothing.
  const refused: Array<[string, string]> = [
    ['an extension it did not offer', 'x-unknown-extension'],
    ['permessage-deflate twice', 'permessage-deflate, permessage-deflate'],
    ['an unknown parameter', 'permessage-deflate; foo'],
    ['a parameter twice', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ['client_max_window_bits without a value', 'permessage-deflate; client_max_window_bits'],
    ['server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=16'],
    ['a value on client_no_context_takeover', 'permessage-deflate; client_no_context_takeover=1'],
  ];
  refused.forEach(([what, answer], i) =>
    cases.push({
      id: `13.8.${i + 1}`,
      description: `answer with ${what}: the client fails the connection`,
      sides: ['client'],
      needs: 'permessage-deflate',
      handshake: { ...DEFAULT_HANDSHAKE, answerExtensions: answer },
      steps: [send(textFrame('must not be echoed'))],
      outcome: { kind: 'dropped', closeFrame: 'optional', messages: [] },
    }),
  );
  return cases;
}

export const compressionParameters: Category = {
  id: '13',
  name: 'permessage-deflate: parameters',
  cases: parameterCases(),
};
