// Category 6: UTF-8 handling (Autobahn 6.*), with the samples of Markus Kuhn's UTF-8 decoder stress test.
// RFC 6455 §8.1: text messages MUST be valid UTF-8 (RFC 3629: no overlong forms, no surrogates
// U+D800..U+DFFF, nothing above U+10FFFF, bytes 0xC0, 0xC1, 0xF5..0xFF never appear); an endpoint that
// receives invalid UTF-8 MUST fail the connection (wsforge: close 1007). Noncharacters (U+FFFE, U+FFFF, ...)
// are valid UTF-8. wsforge fails fast: the close must come as soon as the invalid bytes arrive, before the
// rest of the message (Autobahn 6.4.*).
import { OP } from '../../helpers/wire-frames.js';
import type { Case, Category, Step } from '../types.js';
import { contFrame, fragment, fragmentBy, payload, send, sendEach, text, textFrame } from './build.js';
import { hexBytes } from '../../helpers/hex-bytes.js';

const kosme = hexBytes('cebae1bdb9cf83cebcceb5'); // κόσμε
const helloUtf8 = Buffer.from('Hello-µ@ßöäüàá-UTF-8!!', 'utf8');

/** A single-frame text case: echo when valid, close 1007 when not. */
function single(id: string, description: string, bytes: Buffer, valid: boolean): Case {
  return {
    id,
    description: `${description}: ${bytes.length > 24 ? `${bytes.length} bytes` : bytes.toString('hex')} (${valid ? 'valid' : 'invalid → 1007'})`,
    steps: [send(textFrame(bytes))],
    outcome: valid ? { kind: 'echo', messages: [text(bytes)] } : { kind: 'close', codes: [1007] },
  };
}

/** Cases from a list of [description, hex] sharing one verdict. */
function group(prefix: string, what: string, list: [string, string][], valid: boolean): Case[] {
  return list.map(([d, h], i) => single(`${prefix}.${i + 1}`, `${what}: ${d}`, hexBytes(h), valid));
}

const cases: Case[] = [
  // 6.1 empty
  { id: '6.1.1', description: 'empty text message', steps: [send(textFrame(''))], outcome: { kind: 'echo', messages: [text('')] } },
  {
    id: '6.1.2',
    description: 'text message of 3 empty fragments',
    steps: sendEach([textFrame('', { fin: false }), contFrame('', { fin: false }), contFrame('')]),
    outcome: { kind: 'echo', messages: [text('')] },
  },
  {
    id: '6.1.3',
    description: 'text message of 3 fragments: empty, payload, empty',
    steps: sendEach([textFrame('', { fin: false }), contFrame('middle frame payload', { fin: false }), contFrame('')]),
    outcome: { kind: 'echo', messages: [text('middle frame payload')] },
  },
  // 6.2 valid UTF-8, fragmented in different ways
  { id: '6.2.1', description: 'valid UTF-8 "Hello-µ@ßöäüàá-UTF-8!!" in one frame', steps: [send(textFrame(helloUtf8))], outcome: { kind: 'echo', messages: [text(helloUtf8)] } },
  {
    id: '6.2.2',
    description: 'valid UTF-8 in 2 fragments split on a code point boundary',
    steps: sendEach(fragment(OP.TEXT, helloUtf8, [6, 100])),
    outcome: { kind: 'echo', messages: [text(helloUtf8)] },
  },
  {
    id: '6.2.3',
    description: 'valid UTF-8 in fragments of 1 byte (every code point split)',
    steps: sendEach(fragmentBy(OP.TEXT, helloUtf8, 1)),
    outcome: { kind: 'echo', messages: [text(helloUtf8)] },
  },
  {
    id: '6.2.4',
    description: 'valid UTF-8 κόσμε in fragments of 1 byte',
    steps: sendEach(fragmentBy(OP.TEXT, kosme, 1)),
    outcome: { kind: 'echo', messages: [text(kosme)] },
  },
  // 6.3 invalid, whole and in 1-byte fragments
  single('6.3.1', 'κόσμε-edited with a surrogate', hexBytes('cebae1bdb9cf83cebcceb5eda080656469746564'), false),
  {
    id: '6.3.2',
    description: 'κόσμε-edited with a surrogate, in fragments of 1 byte → 1007',
    steps: sendEach(fragmentBy(OP.TEXT, hexBytes('cebae1bdb9cf83cebcceb5eda080656469746564'), 1)),
    outcome: { kind: 'close', codes: [1007] },
  },
];

// 6.4 fail fast (Autobahn 6.4.1-6.4.4 and longer variants): the close must come before the rest is sent.
function failFastFragments(id: string, description: string, parts: Buffer[]): Case {
  const frames = fragment(OP.TEXT, Buffer.concat(parts), parts.map((p) => p.length));
  return {
    id,
    description: `${description} → 1007 before the last fragment is sent`,
    steps: sendEach(frames.slice(0, -1)),
    outcome: { kind: 'failFast', codes: [1007], rest: [send(frames[frames.length - 1]!)] },
  };
}
/** One frame; the first `cut` payload bytes (with the header) are sent, then (after the wait) the rest. */
function failFastSingle(id: string, description: string, bytes: Buffer, cuts: number[], chunk?: number): Case {
  const frame = textFrame(bytes);
  const steps: Step[] = [];
  let from = 0;
  for (const cut of cuts) {
    steps.push(send(frame, { range: [from, cut], rangeIn: 'payload', ...(chunk ? { chunk } : {}) }));
    from = cut;
  }
  return {
    id,
    description: `${description} → 1007 before the rest of the frame is sent`,
    steps,
    outcome: { kind: 'failFast', codes: [1007], rest: [send(frame, { range: [from], rangeIn: 'payload' })] },
  };
}
const p1 = kosme;
const p2 = hexBytes('f4908080');
const p3 = Buffer.from('edited');
const longInvalidAt = (n: number, at: number, bad: Buffer): Buffer => {
  const b = Buffer.from(payload('text', n));
  bad.copy(b, at);
  return b;
};
cases.push(
  failFastFragments('6.4.1', 'fragments κόσμε | F4 90 80 80 (U+110000) | "edited"', [p1, p2, p3]),
  failFastFragments('6.4.2', 'fragments κόσμε F4 | 90 | 80 80 "edited"', [Buffer.concat([p1, hexBytes('f4')]), hexBytes('90'), Buffer.concat([hexBytes('8080'), p3])]),
  failFastSingle('6.4.3', 'one frame, sent as κόσμε | F4 90 80 80 | "edited"', Buffer.concat([p1, p2, p3]), [11, 15]),
  failFastSingle('6.4.4', 'one frame, sent as κόσμε F4 | 90 | 80 80 "edited"', Buffer.concat([p1, p2, p3]), [12, 13]),
  failFastSingle('6.4.5', 'one frame of 64 KiB with C0 AF (overlong "/") at byte 2, first 1000 bytes sent', longInvalidAt(65536, 2, hexBytes('c0af')), [1000]),
  failFastSingle('6.4.6', 'one frame of 64 KiB with ED A0 80 (surrogate) at byte 500, first 1000 bytes sent in chunks of 100', longInvalidAt(65536, 500, hexBytes('eda080')), [1000], 100),
  failFastSingle('6.4.7', 'one frame of 1 MiB with FF at byte 10, first 4096 bytes sent', longInvalidAt(1 << 20, 10, hexBytes('ff')), [4096]),
  failFastFragments('6.4.8', 'first fragment of 64 KiB with F5 (never in UTF-8) at byte 10, then the final fragment', [longInvalidAt(65536, 10, hexBytes('f5')), Buffer.from('end')]),
  failFastFragments('6.4.9', 'fragments "ab" E0 | 80 80 (overlong: E0 needs A0..BF) | "cd"', [hexBytes('6162e0'), hexBytes('8080'), Buffer.from('cd')]),
  failFastFragments('6.4.10', 'fragments "ab" | ED A0 80 (surrogate) "x" | "cd"', [Buffer.from('ab'), hexBytes('eda08078'), Buffer.from('cd')]),
);

// 6.5 valid samples
cases.push(
  ...group('6.5', 'valid UTF-8', [
    ['κόσμε', 'cebae1bdb9cf83cebcceb5'],
    ['Hello-µ@ßöäüàá-UTF-8!!', helloUtf8.toString('hex')],
    ['CJK 日本語', Buffer.from('日本語のテキスト', 'utf8').toString('hex')],
    ['emoji U+1F600 and U+1F4A9', 'f09f9880f09f92a9'],
    ['mixed 1- to 4-byte sequences', Buffer.from('a¢€𐍈z', 'utf8').toString('hex')],
  ], true),
);

// 6.6 prefixes of κόσμε: valid only when the prefix ends on a code point boundary
for (let n = 1; n <= kosme.length; n++) {
  const valid = [2, 5, 7, 9, 11].includes(n);
  cases.push(single(`6.6.${n}`, `first ${n} bytes of κόσμε`, kosme.subarray(0, n), valid));
}

// Markus Kuhn's UTF-8 decoder capability and stress test, sections 2-5 (Autobahn 6.7-6.22).
cases.push(
  ...group('6.7', 'first possible sequence of a length', [['U+0000', '00'], ['U+0080', 'c280'], ['U+0800', 'e0a080'], ['U+10000', 'f0908080']], true),
  ...group('6.8', 'first possible sequence of a length', [['5 bytes (U+200000)', 'f888808080'], ['6 bytes (U+4000000)', 'fc8480808080']], false),
  ...group('6.9', 'last possible sequence of a length', [['U+007F', '7f'], ['U+07FF', 'dfbf'], ['U+FFFF', 'efbfbf'], ['U+10FFFF', 'f48fbfbf']], true),
  ...group('6.10', 'last possible sequence of a length', [['4 bytes (U+1FFFFF)', 'f7bfbfbf'], ['5 bytes (U+3FFFFFF)', 'fbbfbfbfbf'], ['6 bytes (U+7FFFFFFF)', 'fdbfbfbfbfbf']], false),
  ...group('6.11', 'other boundary conditions', [['U+D7FF', 'ed9fbf'], ['U+E000', 'ee8080'], ['U+FFFD', 'efbfbd'], ['U+10FFFF', 'f48fbfbf']], true),
  single('6.11.5', 'other boundary conditions: U+110000', hexBytes('f4908080'), false),
  ...group('6.12', 'unexpected continuation bytes', [
    ['first continuation byte 0x80', '80'],
    ['last continuation byte 0xBF', 'bf'],
    ['2 continuation bytes', '80bf'],
    ['3 continuation bytes', '80bf80'],
    ['4 continuation bytes', '80bf80bf'],
    ['5 continuation bytes', '80bf80bf80'],
    ['6 continuation bytes', '80bf80bf80bf'],
    ['7 continuation bytes', '80bf80bf80bf80'],
    ['all 64 continuation bytes 0x80-0xBF', Buffer.from(Array.from({ length: 64 }, (_, i) => 0x80 + i)).toString('hex')],
  ], false),
  ...group('6.13', 'lonely start characters, each followed by a space', [
    ['32 first bytes of 2-byte sequences 0xC0-0xDF', spaced(0xc0, 0xdf)],
    ['16 first bytes of 3-byte sequences 0xE0-0xEF', spaced(0xe0, 0xef)],
    ['8 first bytes of 4-byte sequences 0xF0-0xF7', spaced(0xf0, 0xf7)],
    ['4 first bytes of 5-byte sequences 0xF8-0xFB', spaced(0xf8, 0xfb)],
    ['2 first bytes of 6-byte sequences 0xFC-0xFD', spaced(0xfc, 0xfd)],
  ], false),
  ...group('6.14', 'sequence with the last continuation byte missing (truncated)', [
    ['2-byte sequence U+0000', 'c0'],
    ['3-byte sequence U+0000', 'e080'],
    ['4-byte sequence U+0000', 'f08080'],
    ['5-byte sequence U+0000', 'f8808080'],
    ['6-byte sequence U+0000', 'fc80808080'],
    ['2-byte sequence U+07FF', 'df'],
    ['3-byte sequence U+FFFF', 'efbf'],
    ['4-byte sequence U+1FFFFF', 'f7bfbf'],
    ['5-byte sequence U+3FFFFFF', 'fbbfbfbf'],
    ['6-byte sequence U+7FFFFFFF', 'fdbfbfbfbf'],
    ['valid 4-byte U+1F600 truncated at the end of the message', '6162f09f98'],
    ['valid 3-byte U+20AC truncated at the end of the message', '6162e282'],
  ], false),
  single('6.15.1', 'concatenation of the incomplete sequences of 6.14', hexBytes('c0e080f08080f8808080fc80808080dfefbff7bfbffbbfbfbffdbfbfbfbf'), false),
  ...group('6.16', 'impossible bytes', [['0xFE', 'fe'], ['0xFF', 'ff'], ['0xFE 0xFE 0xFF 0xFF', 'fefeffff'], ['0xF5', 'f5'], ['0xF8 alone in ASCII', '61f862'], ['0xC0 0xC1 in ASCII', '61c0c162']], false),
  ...group('6.17', 'overlong ASCII "/"', [['2 bytes', 'c0af'], ['3 bytes', 'e080af'], ['4 bytes', 'f08080af'], ['5 bytes', 'f8808080af'], ['6 bytes', 'fc80808080af']], false),
  ...group('6.18', 'maximum overlong sequences', [['U+007F in 2 bytes', 'c1bf'], ['U+07FF in 3 bytes', 'e09fbf'], ['U+FFFF in 4 bytes', 'f08fbfbf'], ['U+1FFFFF in 5 bytes', 'f887bfbfbf'], ['U+3FFFFFF in 6 bytes', 'fc83bfbfbfbf']], false),
  ...group('6.19', 'overlong NUL', [['2 bytes', 'c080'], ['3 bytes', 'e08080'], ['4 bytes', 'f0808080'], ['5 bytes', 'f880808080'], ['6 bytes', 'fc8080808080']], false),
  ...group('6.20', 'single UTF-16 surrogate', [['U+D800', 'eda080'], ['U+DB7F', 'edadbf'], ['U+DB80', 'edae80'], ['U+DBFF', 'edafbf'], ['U+DC00', 'edb080'], ['U+DF80', 'edbe80'], ['U+DFFF', 'edbfbf']], false),
  ...group('6.21', 'paired UTF-16 surrogates', [
    ['U+D800 U+DC00', 'eda080edb080'],
    ['U+D800 U+DFFF', 'eda080edbfbf'],
    ['U+DB7F U+DC00', 'edadbfedb080'],
    ['U+DB7F U+DFFF', 'edadbfedbfbf'],
    ['U+DB80 U+DC00', 'edae80edb080'],
    ['U+DB80 U+DFFF', 'edae80edbfbf'],
    ['U+DBFF U+DC00', 'edafbfedb080'],
    ['U+DBFF U+DFFF', 'edafbfedbfbf'],
  ], false),
  ...group('6.22', 'noncharacter (valid UTF-8)', nonCharacters(), true),
  ...group('6.23', 'valid special code points', [
    ['U+FFFD', 'efbfbd'],
    ['U+FFFD U+FFFD', 'efbfbdefbfbd'],
    ['U+FEFF byte order mark', 'efbbbf'],
    ['U+FDD0 noncharacter', 'efb790'],
    ['U+FDEF noncharacter', 'efb7af'],
    ['U+0000 inside text', '610062'],
    ['U+E000..U+E002 private use', 'ee8080ee8081ee8082'],
  ], true),
);

function spaced(from: number, to: number): string {
  const out: number[] = [];
  for (let b = from; b <= to; b++) out.push(b, 0x20);
  return Buffer.from(out).toString('hex');
}

function nonCharacters(): [string, string][] {
  const list: [string, string][] = [];
  for (let plane = 0; plane <= 16; plane++) {
    for (const low of [0xfffe, 0xffff]) {
      const cp = plane * 0x10000 + low;
      list.push([`U+${cp.toString(16).toUpperCase()}`, Buffer.from(String.fromCodePoint(cp), 'utf8').toString('hex')]);
    }
  }
  return list;
}

// 6.24 invalid sequences at every fragment boundary: "ab" + bad + "cd" split into 2 fragments at each position.
const boundaryBad: [string, string][] = [
  ['U+110000', 'f4908080'],
  ['surrogate U+D800', 'eda080'],
  ['overlong "/"', 'c0af'],
  ['overlong 3-byte', 'e080af'],
  ['lone continuation byte', '80'],
  ['byte 0xFF', 'ff'],
  ['max overlong 4-byte', 'f08fbfbf'],
];
let k = 0;
for (const [name, h] of boundaryBad) {
  const msg = Buffer.concat([Buffer.from('ab'), hexBytes(h), Buffer.from('cd')]);
  for (let cut = 1; cut < msg.length; cut++) {
    k++;
    cases.push({
      id: `6.24.${k}`,
      description: `"ab" ${name} "cd" in 2 fragments split after byte ${cut} → 1007`,
      steps: sendEach(fragment(OP.TEXT, msg, [cut, msg.length])),
      outcome: { kind: 'close', codes: [1007] },
    });
  }
}

// 6.25 valid multi-byte characters split at every fragment boundary.
const validSplit = Buffer.concat([Buffer.from('a'), hexBytes('f09f9880'), hexBytes('e282ac'), hexBytes('c2a2'), Buffer.from('z')]);
for (let cut = 1; cut < validSplit.length; cut++) {
  cases.push({
    id: `6.25.${cut}`,
    description: `"a" U+1F600 U+20AC U+00A2 "z" in 2 fragments split after byte ${cut} (valid)`,
    steps: sendEach(fragment(OP.TEXT, validSplit, [cut, validSplit.length])),
    outcome: { kind: 'echo', messages: [text(validSplit)] },
  });
}

// 6.26 the message ends inside a sequence that started in an earlier fragment.
cases.push(
  {
    id: '6.26.1',
    description: 'fragments "ab" | "c" E2 82 (final) → message ends inside a sequence → 1007',
    steps: sendEach(fragment(OP.TEXT, Buffer.concat([Buffer.from('abc'), hexBytes('e282')]), [2, 3])),
    outcome: { kind: 'close', codes: [1007] },
  },
  {
    id: '6.26.2',
    description: 'fragments "ab" F0 | 9F 98 | empty final → message ends inside a sequence → 1007',
    steps: sendEach([textFrame(hexBytes('6162f0'), { fin: false }), contFrame(hexBytes('9f98'), { fin: false }), contFrame('')]),
    outcome: { kind: 'close', codes: [1007] },
  },
);

// 6.27 invalid samples delivered in fragments of 1 byte.
const perByte: [string, string][] = [
  ['U+110000', 'f4908080'],
  ['5-byte sequence', 'f888808080'],
  ['surrogate pair', 'eda080edb080'],
  ['overlong NUL', 'c080'],
  ['lonely start byte followed by space', 'e020'],
  ['impossible bytes', 'fefeffff'],
  ['truncated 4-byte sequence at the end', '6162f09f98'],
];
perByte.forEach(([name, h], i) => {
  cases.push({
    id: `6.27.${i + 1}`,
    description: `${name} (${h}) in fragments of 1 byte → 1007`,
    steps: sendEach(fragmentBy(OP.TEXT, hexBytes(h), 1)),
    outcome: { kind: 'close', codes: [1007] },
  });
});

export const utf8: Category = { id: '6', name: 'UTF-8', cases };
