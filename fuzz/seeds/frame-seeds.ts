/** Seeds of the `frames` target: a settings byte (see targets/frames.ts), then what the peer sends. */
import { closePayload, encodeWireFrame, type WireFrameSpec } from '../../test/helpers/wire-frames.js';

const ZERO_MASK = Uint8Array.from([0, 0, 0, 0]);
const RFC_MASK = Uint8Array.from([0x37, 0xfa, 0x21, 0x3d]);

const CLIENT = 1;
const OBSERVE = 2;
const NO_AUTO_PONG = 4;
const MAX_PAYLOAD_125 = 2 << 3;
const MAX_PAYLOAD_4000 = 3 << 3;
const MAX_FRAGMENTS_2 = 2 << 5;
const ACTS = 0x80;

type Spec = Omit<WireFrameSpec, 'mask'> & { mask?: Uint8Array | null };

/** Frames as a client sends them (masked, zero key unless given) for the server role, or unmasked for the client role. */
function stream(settings: number, specs: Spec[]): Buffer {
  const client = (settings & CLIENT) !== 0;
  return Buffer.concat(specs.map((spec) => encodeWireFrame({ ...spec, mask: spec.mask !== undefined ? spec.mask : client ? null : ZERO_MASK })));
}

function input(settings: number, specs: Spec[], action?: { code: number; at: number }): Buffer {
  const head = action === undefined ? Buffer.from([settings]) : Buffer.from([settings | ACTS, action.code, action.at >> 8, action.at & 0xff]);
  return Buffer.concat([head, stream(settings, specs)]);
}

const text = (payload: string | Uint8Array, more: Partial<Spec> = {}): Spec => ({ opcode: 0x1, payload, ...more });
const binary = (payload: Uint8Array | string, more: Partial<Spec> = {}): Spec => ({ opcode: 0x2, payload, ...more });
const continuation = (payload: Uint8Array | string, fin = true): Spec => ({ opcode: 0x0, payload, fin });
const ping = (payload = ''): Spec => ({ opcode: 0x9, payload });
const pong = (payload = ''): Spec => ({ opcode: 0xa, payload });
const close = (code?: number, reason: string | Uint8Array = ''): Spec => ({ opcode: 0x8, payload: code === undefined ? new Uint8Array(0) : closePayload(code, reason) });

export function frameSeeds(): Record<string, Buffer> {
  return {
    'server-text-hello': input(0, [text('Hello')]),
    'server-text-rfc-mask': input(0, [text('Hello', { mask: RFC_MASK })]),
    'client-text-hello': input(CLIENT, [text('Hello')]),
    'server-binary-16bit-length': input(0, [binary(Buffer.alloc(300, 0x61))]),
    'client-binary-64bit-length': input(CLIENT, [binary(Buffer.alloc(65536, 0x62))]).subarray(0, 4096),
    'server-fragmented-text-with-ping': input(0, [text('Hel', { fin: false }), ping('p'), continuation('lo')]),
    'client-fragmented-utf8-split': input(CLIENT, [text(Buffer.from([0xe2, 0x82]), { fin: false }), continuation(Buffer.from([0xac]))]),
    'server-utf8-4-byte': input(0, [text('\u{1f600} caf\u00e9 \u20ac')]),
    'server-invalid-utf8-fail-fast': input(0, [text(Buffer.from([0x61, 0xed, 0xa0, 0x80, 0x62]))]),
    'server-close-1000-reason': input(0, [close(1000, 'bye')]),
    'client-close-empty': input(CLIENT, [close()]),
    'server-close-then-data': input(0, [close(1001), text('after')]),
    'server-ping-pong': input(0, [ping('abc'), pong('xyz'), text('')]),
    'server-no-auto-pong': input(NO_AUTO_PONG, [ping('abc')]),
    'server-observe-fragments': input(OBSERVE, [binary('ab', { fin: false }), continuation('cd', false), continuation('ef')]),
    'client-observe-close': input(CLIENT | OBSERVE, [text('x'), close(4000, 'app')]),
    'server-too-big-125': input(MAX_PAYLOAD_125, [binary(Buffer.alloc(126, 1))]),
    'server-too-big-fragments-4000': input(MAX_PAYLOAD_4000, [binary(Buffer.alloc(2000), { fin: false }), continuation(Buffer.alloc(2001))]),
    'server-too-many-fragments': input(MAX_FRAGMENTS_2, [text('a', { fin: false }), continuation('b', false), continuation('c')]),
    'server-reserved-opcode': input(0, [{ opcode: 0x3, payload: 'x' }]),
    'server-rsv1-without-extension': input(0, [text('x', { rsv1: true })]),
    'server-unmasked': input(0, [text('x', { mask: null })]),
    'client-masked': input(CLIENT, [text('x', { mask: RFC_MASK })]),
    'server-control-fragmented': input(0, [{ opcode: 0x9, payload: 'x', fin: false }]),
    'server-non-minimal-length': input(0, [binary('abc', { lengthBits: 16 })]),
    'server-close-then-action': input(0, [text('a'), ping('b'), text('c', { fin: false }), continuation('d'), close(1000)], { code: 1, at: 8 }),
    'client-action-mid-message': input(CLIENT, [text('abcdef', { fin: false }), ping(), continuation('gh'), close(1001, 'x')], { code: 0, at: 5 }),
    'server-action-then-bad-close': input(0, [text('a'), close(1005)], { code: 3, at: 7 }),
  };
}
