/**
 * What a client's options take: ConnectOptions (connect()), ReconnectingClientOptions (with
 * `reconnect`), and the options of the wsforge/whatwg classes. Options of ws's client and of
 * reconnecting-websocket that do not exist here say what to use instead.
 */
import { clientDeflateOptionTable } from '../../protocol/extensions/permessage-deflate/option-table.js';
import { isOptionsObject, type OptionRule, type OptionRules, type OptionTable } from '../../protocol/options/check-options.js';
import {
  anyOf,
  booleanOption,
  durationOption,
  functionOption,
  instanceOption,
  integerOption,
  integerOrInfinityOption,
  listOption,
  nestedOptions,
  nonEmptyStringOption,
  numberOption,
  objectOption,
  stringListOption,
  stringOption,
} from '../../protocol/options/option-rules.js';
import type { ReconnectingClientOptions } from '../client/reconnecting-client.js';
import type { ConnectOptions } from '../client/options.js';
import type { WebSocketStreamOptions } from '../whatwg/websocket-stream.js';
import { connectionHints, connectionRules, WS_API } from './connection-option-table.js';

const headerFields: OptionRule = {
  expects: 'an object of header fields, each a string or an array of strings',
  accepts: (value) =>
    isOptionsObject(value) &&
    Object.values(value).every((field) => typeof field === 'string' || (Array.isArray(field) && field.every((item) => typeof item === 'string'))),
};

const clientExtension: OptionRule = {
  expects: 'a ClientExtensionFactory ({ name, offer, accept })',
  accepts: (value) =>
    isOptionsObject(value) &&
    typeof (value as { name?: unknown }).name === 'string' &&
    typeof (value as { offer?: unknown }).offer === 'function' &&
    typeof (value as { accept?: unknown }).accept === 'function',
};

const noProxy: OptionRule = { expects: 'false', accepts: (value) => value === false };

const connectRules: OptionRules<ConnectOptions> = {
  ...connectionRules,
  headers: headerFields,
  protocols: anyOf(stringOption, stringListOption),
  origin: stringOption,
  handshakeTimeout: durationOption(1),
  maxHeaderSize: integerOption(1, undefined, 'bytes'),
  tls: objectOption('an object of tls.connect options ({ ca, rejectUnauthorized, servername, ... })'),
  perMessageDeflate: anyOf(booleanOption, nestedOptions(clientDeflateOptionTable, 'an object of permessage-deflate options')),
  extensions: listOption(clientExtension),
  signal: instanceOption(AbortSignal, 'an AbortSignal'),
  proxy: anyOf(nonEmptyStringOption, instanceOption(URL, 'a URL'), noProxy),
  socketPath: nonEmptyStringOption,
  http2: booleanOption,
};

const TLS_KEYS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername', 'checkServerIdentity', 'ciphers', 'secureContext', 'minVersion', 'ALPNProtocols'];
const URL_PARTS = ['host', 'hostname', 'port', 'path'];

const connectHints: Record<string, string> = {
  ...connectionHints,
  followRedirects: `is ws's option: redirects are not followed (a 3xx answer fails with WSF_ERR_HANDSHAKE_STATUS; its Location is in \`error.response.headers\`) ${WS_API}`,
  maxRedirects: `is ws's option: redirects are not followed ${WS_API}`,
  protocolVersion: `is ws's option: the version is always 13 (RFC 6455) ${WS_API}`,
  generateMask: `is ws's option: masks always come from node:crypto's randomFillSync (RFC 6455 §5.3) ${WS_API}`,
  agent: `is ws's option: use \`proxy\` (an http:// or socks5:// URL) ${WS_API}`,
  createConnection: `is ws's option: use \`socketPath\` (Unix sockets) or \`proxy\` ${WS_API}`,
  finishRequest: `is ws's option: add request headers with \`headers\` ${WS_API}`,
  timeout: 'is not an option here: use `handshakeTimeout` (ms)',
  auth: 'is an http.request option: send credentials in `headers: { Authorization }` (or in the URL)',
  dispatcher: "is undici's option: use `proxy` for a proxy",
  protocol: 'is not an option here: subprotocols go in `protocols`',
  reconnect: 'is a ReconnectingClient option: use `new ReconnectingClient(url, { reconnect })`',
};
for (const name of TLS_KEYS) connectHints[name] = `is a TLS option: pass it in \`tls: { ${name} }\``;
for (const name of URL_PARTS) connectHints[name] = 'is part of the URL: put it there (`ws://host:port/path`)';

/** `connect(url, ['chat'])`: ws's and the browser's second argument are the subprotocols. */
function subprotocolsGivenAlone(value: unknown): string | undefined {
  return typeof value === 'string' || Array.isArray(value) ? 'subprotocols go in `{ protocols }`' : undefined;
}

export const connectOptionTable: OptionTable = { rules: connectRules, hints: connectHints, misplaced: subprotocolsGivenAlone };

type ReconnectSettings = NonNullable<ReconnectingClientOptions['reconnect']>;

const reconnectRules: OptionRules<ReconnectSettings> = {
  initialDelay: durationOption(0),
  maxDelay: durationOption(0),
  factor: numberOption(1, Infinity),
  jitter: numberOption(0, 1),
  maxRetries: integerOrInfinityOption(0),
  queueLimit: integerOption(0, undefined, 'bytes'),
  shouldRetry: functionOption,
  random: functionOption,
};

/** reconnecting-websocket's names (the npm package), and what they are here. */
const reconnectingWebSocketNames: Record<string, keyof ReconnectSettings> = {
  minReconnectionDelay: 'initialDelay',
  maxReconnectionDelay: 'maxDelay',
  reconnectionDelayGrowFactor: 'factor',
  maxEnqueuedMessages: 'queueLimit',
  retries: 'maxRetries',
};

const reconnectTable: OptionTable = {
  rules: reconnectRules,
  hints: {
    ...Object.fromEntries(Object.entries(reconnectingWebSocketNames).map(([theirs, ours]) => [theirs, `is reconnecting-websocket's name: use \`${ours}\`${ours === 'queueLimit' ? ' (in bytes)' : ''}`])),
    connectionTimeout: 'is a connection option: use `handshakeTimeout` next to `reconnect`',
    handshakeTimeout: 'is a connection option: put it next to `reconnect`, not inside it',
  },
};

const reconnectingHints: Record<string, string> = { ...connectHints };
delete reconnectingHints['reconnect'];
for (const name of Object.keys(reconnectRules)) reconnectingHints[name] = `goes in \`reconnect: { ${name} }\``;
for (const [theirs, ours] of Object.entries(reconnectingWebSocketNames)) reconnectingHints[theirs] = `is reconnecting-websocket's name: use \`reconnect: { ${ours} }\``;
reconnectingHints['connectionTimeout'] = "is reconnecting-websocket's name: use `handshakeTimeout`";

export const reconnectingClientOptionTable: OptionTable = {
  rules: { ...connectRules, reconnect: nestedOptions(reconnectTable, 'an object of reconnect options (initialDelay, maxDelay, factor, jitter, maxRetries, queueLimit, shouldRetry)') } satisfies OptionRules<ReconnectingClientOptions>,
  hints: reconnectingHints,
};

const { protocols: _protocols, ...connectRulesWithoutProtocols } = connectRules;

/** wsforge/whatwg's WebSocket: `new WebSocket(url, protocols, options)`. */
export const whatwgWebSocketOptionTable: OptionTable = {
  rules: connectRulesWithoutProtocols,
  hints: { ...connectHints, protocols: 'goes in the second argument: `new WebSocket(url, protocols, options)`' },
};

const { signal: _signal, ...connectRulesWithoutSignal } = connectRulesWithoutProtocols;

export const webSocketStreamOptionTable: OptionTable = {
  rules: {
    ...connectRulesWithoutSignal,
    protocols: stringListOption,
    signal: anyOf(instanceOption(AbortSignal, 'an AbortSignal'), { expects: 'null', accepts: (value) => value === null }),
  } satisfies OptionRules<WebSocketStreamOptions>,
  hints: connectHints,
};
