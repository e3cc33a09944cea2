/**
 * What permessage-deflate's options take (PerMessageDeflateOptions), checked once per options
 * object by serverPerMessageDeflate / clientPerMessageDeflate (README "Compression").
 */
import type { OptionRules, OptionTable } from '../../options/check-options.js';
import { booleanOption, functionOption, integerOption } from '../../options/option-rules.js';
import type { PerMessageDeflateOptions } from './params.js';

/** RFC 7692 §7.1.2: a window of 2^8 to 2^15 bytes. */
const windowBits = integerOption(8, 15);

const clientRules: OptionRules<Omit<PerMessageDeflateOptions, 'acceptOffer'>> = {
  serverNoContextTakeover: booleanOption,
  clientNoContextTakeover: booleanOption,
  serverMaxWindowBits: windowBits,
  clientMaxWindowBits: integerOption(8, 15, 'omit it to offer client_max_window_bits without a value'),
  // zlib: -1 is Z_DEFAULT_COMPRESSION (6), 0 stores, 9 compresses most.
  level: integerOption(-1, 9, "zlib's level"),
  memLevel: integerOption(1, 9, "zlib's memLevel"),
  threshold: integerOption(0, undefined, 'bytes'),
  concurrency: integerOption(1, undefined, 'zlib jobs at once'),
};

/** Keys of ws's and Bun's permessage-deflate options, and what to use instead. */
const foreignDeflateHints: Record<string, string> = {
  zlibDeflateOptions: "is ws's option: use `level` and `memLevel` (and `serverMaxWindowBits` / `clientMaxWindowBits` for the window)",
  zlibInflateOptions: "is ws's option: inflating needs none (its memory is bounded by `maxPayload` and the window bits)",
  concurrencyLimit: "is ws's option: use `concurrency`",
  maxPayload: 'is a connection option: set `maxPayload` next to `perMessageDeflate`, not inside it',
  compress: "is Bun's option: messages are compressed whenever permessage-deflate is negotiated (one message: `send(data, { compress: false })`)",
  decompress: "is Bun's option: received messages are always decompressed when permessage-deflate is negotiated",
};

export const serverDeflateOptionTable: OptionTable = {
  rules: { ...clientRules, acceptOffer: functionOption } satisfies OptionRules<PerMessageDeflateOptions>,
  hints: foreignDeflateHints,
};

export const clientDeflateOptionTable: OptionTable = {
  rules: clientRules,
  hints: { ...foreignDeflateHints, acceptOffer: "is a server option: a client makes one offer and checks the server's answer" },
};
