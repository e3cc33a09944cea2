/**
 * What a connection's options take (ConnectionOptions, shared by servers and clients), and
 * WebSocketInit for `new WebSocket(duplex, init)`. Ranges follow what each value means: sizes
 * are integer bytes, durations ms that a Node timer can hold.
 */
import { Buffer } from 'node:buffer';
import type { OptionRules, OptionTable } from '../../protocol/options/check-options.js';
import {
  anyOf,
  booleanOption,
  durationOption,
  enumOption,
  instanceOption,
  integerOption,
  objectWithMethods,
  stringOption,
} from '../../protocol/options/option-rules.js';
import type { ConnectionOptions } from '../connection/options.js';
import type { SendOptions, WebSocketInit } from '../connection/websocket.js';

/** ws and others read 0 as "no limit"; here a limit is a limit. */
const NOT_UNLIMITED = 'bytes; 0 is not "no limit": use Number.MAX_SAFE_INTEGER';

export const connectionRules: OptionRules<ConnectionOptions> = {
  maxPayload: integerOption(1, undefined, NOT_UNLIMITED),
  maxFragments: integerOption(1, undefined, 'frames per message'),
  closeTimeout: durationOption(0),
  highWaterMark: integerOption(0, undefined, 'bytes'),
  maxBackpressure: integerOption(0, undefined, 'bytes'),
  closeOnBackpressureLimit: booleanOption,
  pingInterval: durationOption(0, '0 turns keepalive off'),
  // 0 would close every connection right after its first keepalive ping.
  pingTimeout: durationOption(1, 'to turn keepalive off: pingInterval: 0'),
  idleTimeout: durationOption(0, '0 turns it off'),
  autoPong: booleanOption,
  observeFrames: booleanOption,
  textAsBuffer: booleanOption,
};

/** The options of one message: `ws.publish`, `wss.prepare`, `wss.publish`, `wss.broadcast`. */
export const sendOptionRules: OptionRules<SendOptions> = {
  binary: booleanOption,
  compress: booleanOption,
};

/** The sentence the hints for ws's options end with. */
export const WS_API = "(or import from 'wsforge/ws' for the ws API)";

/** Keys of ws's, uWebSockets' and Bun's connection options, and renamed ones: what to use instead. */
export const connectionHints: Readonly<Record<string, string>> = {
  maxBufferedAmount: 'was renamed: use `maxBackpressure` (and `closeOnBackpressureLimit: false` to drop sends instead of closing)',
  skipUTF8Validation: `is ws's option: text is always validated, as RFC 6455 §8.1 requires (invalid UTF-8 closes with 1007) ${WS_API}`,
  allowSynchronousEvents: `is ws's option: messages are always delivered as they are parsed ${WS_API}`,
  maxBufferedChunks: `is ws's option: use \`maxFragments\` and \`maxPayload\` (what a message may hold while it is assembled) ${WS_API}`,
  maxPendingAutoPongs: `is ws's option and has no equivalent here ${WS_API}`,
  maxPayloadLength: "is uWebSockets' option: use `maxPayload`",
  sendPingsAutomatically: "is uWebSockets' option: use `pingInterval` (0 turns pings off)",
  backpressureLimit: "is Bun's option: use `maxBackpressure`",
  compression: "is uWebSockets' option: use `perMessageDeflate`",
};

export const webSocketInitTable: OptionTable = {
  rules: {
    ...connectionRules,
    role: enumOption(['client', 'server']),
    protocol: stringOption,
    extension: anyOf(objectWithMethods('a MessageExtension (from checkHandshakeResponse)', ['encode', 'decode', 'dispose']), {
      expects: 'null',
      accepts: (value) => value === null,
    }),
    url: stringOption,
    head: instanceOption(Buffer, 'a Buffer'),
  } satisfies OptionRules<WebSocketInit>,
  required: ['role'],
  hints: {
    ...connectionHints,
    protocols: 'is a handshake option: `new WebSocket(duplex, init)` runs a connection whose handshake is done: give the agreed `protocol`',
    perMessageDeflate: 'is a handshake option: give the negotiated `extension` (from checkHandshakeResponse or decideHandshake)',
  },
};
