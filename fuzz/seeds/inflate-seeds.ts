/**
 * Seeds of the `inflate` target: a settings byte (see targets/inflate.ts), then frames with
 * compressed payloads made with zlib (RFC 7692 §7.2.1: sync flush, 00 00 ff ff removed), masked
 * with a zero key for the server role.
 */
import { constants, deflateRawSync } from 'node:zlib';
import { encodeWireFrame, type WireFrameSpec } from '../../test/helpers/wire-frames.js';

const CLIENT = 1;
const MAX_1000 = 1 << 1;
const MAX_65536 = 2 << 1;
const MAX_16M = 3 << 1;
const TAKEOVER = 8;
const OBSERVE = 0x80;
const bits = (windowBits: number): number => (windowBits - 8) << 4;

/** One message compressed as a permessage-deflate sender does; `dictionary` is the window taken over. */
function compress(data: Buffer | string, windowBits = 15, dictionary?: Buffer): Buffer {
  const input = typeof data === 'string' ? Buffer.from(data) : data;
  const out = deflateRawSync(input, { finishFlush: constants.Z_SYNC_FLUSH, windowBits: Math.max(windowBits, 9), ...(dictionary === undefined ? {} : { dictionary }) });
  return out.subarray(0, out.length - 4);
}

type Spec = Omit<WireFrameSpec, 'mask'>;

function input(settings: number, specs: Spec[], closeAt?: number): Buffer {
  const client = (settings & CLIENT) !== 0;
  const frames = specs.map((spec) => encodeWireFrame({ ...spec, mask: client ? null : Uint8Array.from([0, 0, 0, 0]) }));
  const head = closeAt === undefined ? Buffer.from([settings, 0]) : Buffer.from([settings, 1, closeAt >> 8, closeAt & 0xff]);
  return Buffer.concat([head, ...frames]);
}

const compressed = (opcode: number, payload: Buffer, fin = true): Spec => ({ opcode, payload, fin, rsv1: opcode !== 0 });

export function inflateSeeds(): Record<string, Buffer> {
  const hello = Buffer.from([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]); // RFC 7692 §7.2.3.1
  const first = 'the same words again and again, the same words again';
  const second = 'the same words again and again and again';
  const firstCompressed = compress(first);
  const json = JSON.stringify({ user: 'x', items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item ${i}` })) });
  const jsonCompressed = compress(json, 10);
  return {
    'rfc-7692-hello': input(MAX_1000, [compressed(0x1, hello)]),
    'rfc-7692-hello-client': input(CLIENT | MAX_1000, [compressed(0x1, hello)]),
    'rfc-7692-hello-fragmented': input(MAX_1000, [compressed(0x1, hello.subarray(0, 3), false), compressed(0x0, hello.subarray(3))]),
    'rfc-7692-empty-message': input(0, [compressed(0x2, Buffer.from([0x00]))]),
    'rfc-7692-bfinal-block': input(MAX_1000, [compressed(0x1, Buffer.from([0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])), compressed(0x1, hello)]),
    'json-window-10': input(MAX_65536 | bits(10), [compressed(0x1, jsonCompressed), { opcode: 0x9, payload: 'p' }, compressed(0x2, compress(Buffer.alloc(300, 7), 10))]),
    'bomb-1009': input(MAX_65536 | OBSERVE, [compressed(0x2, compress(Buffer.alloc(1_000_000)))]),
    'bomb-under-16m': input(MAX_16M | CLIENT, [compressed(0x2, compress(Buffer.alloc(2_000_000, 0x61)).subarray(0, 2100))]),
    'small-bomb-64': input(0, [compressed(0x1, compress('a'.repeat(65)))]),
    'invalid-data-1007': input(MAX_1000, [compressed(0x1, Buffer.from([0xff, 0xff, 0xff, 0x00, 0x01]))]),
    'invalid-utf8-inside': input(MAX_1000, [compressed(0x1, compress(Buffer.from([0x61, 0xc0, 0xaf])))]),
    'uncompressed-between': input(MAX_1000, [compressed(0x1, hello), { opcode: 0x1, payload: 'plain' }, compressed(0x1, hello)]),
    'takeover-two-messages': input(TAKEOVER | MAX_1000, [compressed(0x1, firstCompressed), compressed(0x1, compress(second, 15, Buffer.from(first)))]),
    'takeover-window-8-client': input(CLIENT | TAKEOVER | bits(8) | MAX_1000, [compressed(0x2, compress('abcabcabcabc', 9)), compressed(0x2, compress('abcabc', 9, Buffer.from('abcabcabcabc')))]),
    'rsv1-on-continuation': input(MAX_1000, [compressed(0x1, hello.subarray(0, 2), false), { opcode: 0x0, payload: hello.subarray(2), rsv1: true }]),
    'close-after-compressed': input(CLIENT | MAX_1000, [compressed(0x1, hello), { opcode: 0x8, payload: Buffer.from([0x03, 0xe8]) }]),
    // Our close while the first message inflates: the decode is abandoned, the peer's close still read.
    'close-during-decode': input(MAX_65536, [compressed(0x1, jsonCompressed), compressed(0x2, hello), { opcode: 0x9, payload: 'p' }, { opcode: 0x8, payload: Buffer.from([0x03, 0xe8]) }], 3),
    'close-during-bomb-client': input(CLIENT | MAX_16M, [compressed(0x2, compress(Buffer.alloc(1_000_000))), compressed(0x1, hello), { opcode: 0x8, payload: Buffer.from([]) }], 1100),
  };
}
