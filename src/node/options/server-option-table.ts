/**
 * What a server's options take: ServerOptions (with `handlers` and `perMessageDeflate`),
 * ListenOptions, and the options of `broadcast`. ws's server options that do not exist here
 * (`verifyClient`, `port`, `server`, `noServer`...) say what to use instead: ignored, they would
 * leave a server that accepts everyone, never listens or never attaches.
 */
import { serverDeflateOptionTable } from '../../protocol/extensions/permessage-deflate/option-table.js';
import { isToken } from '../../protocol/http1/token.js';
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
  objectOption,
  objectWithMethods,
  stringMatching,
} from '../../protocol/options/option-rules.js';
import { WebSocket } from '../connection/websocket.js';
import type { ListenOptions, ServerHandlers, ServerOptions } from '../server/options.js';
import { connectionHints, connectionRules, sendOptionRules } from './connection-option-table.js';

const WS_SERVER_API = "(or import { WebSocketServer } from 'wsforge/ws' for the ws API)";

const handlerRules: OptionRules<ServerHandlers> = {
  open: functionOption,
  message: functionOption,
  ping: functionOption,
  pong: functionOption,
  close: functionOption,
  error: functionOption,
  drain: functionOption,
};

const handlersTable: OptionTable = {
  rules: handlerRules,
  hints: {
    connection: 'is an event: use the handler `open(ws, request)`, or `wss.on(\'connection\', ...)`',
    upgrade: "is uWebSockets' handler: decide on handshakes with the server's `onHandshake` option",
    subscription: "is uWebSockets' handler and has no equivalent here",
  },
};

/** RFC 6454 §6.1: an Origin header is `scheme://host[:port]`, or "null"; anything else never matches. */
function isOriginSerialization(value: string): boolean {
  return value === 'null' || /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]+$/i.test(value);
}

/** A request path starts with "/" (RFC 6455 §3): one that does not is never served. */
const servedPath = stringMatching('a path starting with "/"', (value) => value.startsWith('/'));

const serverExtension: OptionRule = {
  expects: 'a ServerExtensionFactory ({ name, accept })',
  accepts: (value) => isOptionsObject(value) && typeof (value as { name?: unknown }).name === 'string' && typeof (value as { accept?: unknown }).accept === 'function',
};

const serverRules: OptionRules<ServerOptions> = {
  ...connectionRules,
  path: anyOf(servedPath, listOption(servedPath, { nonEmpty: true, expects: 'a non-empty array of them' })),
  origins: listOption(stringMatching('an origin as browsers send it: "scheme://host[:port]" (no path, no trailing slash), or "null"', isOriginSerialization), {
    expects: 'an array of origins',
  }),
  // RFC 6455 §4.1: a subprotocol is a token; another string could never be offered.
  protocols: listOption(stringMatching('a subprotocol name (an HTTP token: no spaces, commas or quotes)', isToken), { expects: 'an array of subprotocol names' }),
  handleProtocols: functionOption,
  onHandshake: functionOption,
  perMessageDeflate: anyOf(booleanOption, nestedOptions(serverDeflateOptionTable, 'an object of permessage-deflate options')),
  extensions: listOption(serverExtension),
  handshakeTimeout: durationOption(1),
  maxHeaderSize: integerOption(1, undefined, 'bytes'),
  maxConnections: integerOrInfinityOption(0, '0 refuses every handshake (503)'),
  maxTotalBackpressure: integerOption(0, undefined, 'bytes'),
  pubsub: objectWithMethods('a PubSubAdapter (attach, subscribe, unsubscribe, publish, close)', ['attach', 'subscribe', 'unsubscribe', 'publish', 'close']),
  handlers: nestedOptions(handlersTable, 'an object of handlers (open, message, ping, pong, close, error, drain)'),
};

const serverHints: Record<string, string> = {
  ...connectionHints,
  verifyClient: `is ws's option: use \`onHandshake\` ${WS_SERVER_API}`,
  port: `is ws's option: use \`await wss.listen({ port })\` ${WS_SERVER_API}`,
  host: `is ws's option: use \`await wss.listen({ host, port })\` ${WS_SERVER_API}`,
  backlog: `is ws's option: use \`await wss.listen({ backlog })\` ${WS_SERVER_API}`,
  server: `is ws's option: use \`wss.attach(server)\` ${WS_SERVER_API}`,
  noServer: `is ws's option: without \`listen\` or \`attach\` a server has none; call \`wss.handleUpgrade(request, socket, head)\` from your 'upgrade' listener ${WS_SERVER_API}`,
  clientTracking: `is ws's option: \`wss.clients\` is always kept ${WS_SERVER_API}`,
  WebSocket: `is ws's option and has no equivalent here ${WS_SERVER_API}`,
  tls: 'is a listen option: use `await wss.listen({ port, tls: { cert, key } })`, or `wss.attach(httpsServer)`',
  upgrade: "is uWebSockets' handler: use `onHandshake`",
  publishToSelf: "is Bun's option: `ws.publish()` never sends to `ws` itself; `wss.publish()` sends to every subscriber",
  maxLifetime: "is uWebSockets' option and has no equivalent here",
  resetIdleTimeoutOnSend: "is uWebSockets' option: `idleTimeout` counts messages either way",
};
for (const name of Object.keys(handlerRules)) serverHints[name] = `is a handler: pass it in \`handlers: { ${name} }\``;

export const serverOptionTable: OptionTable = {
  rules: serverRules,
  hints: serverHints,
  misplaced(value) {
    if (typeof value === 'number') return `a port goes to listen(): \`await new WebSocketServer().listen({ port: ${value} })\``;
    if (isOptionsObject(value) && typeof (value as { listen?: unknown }).listen === 'function' && typeof (value as { on?: unknown }).on === 'function') {
      return 'to serve the upgrades of an HTTP server, create the WebSocketServer with its options and call `wss.attach(server)`';
    }
    return undefined;
  },
};

const listenRules: OptionRules<ListenOptions> = {
  port: integerOption(0, 65535, '0 for any free port'),
  host: nonEmptyStringOption,
  path: nonEmptyStringOption,
  backlog: integerOption(0),
  tls: objectOption('an object of tls.createServer options ({ cert, key, ... })'),
  http2: booleanOption,
  reusePort: booleanOption,
};

const TLS_KEYS = ['cert', 'key', 'ca', 'pfx', 'passphrase', 'ciphers', 'secureContext', 'ALPNProtocols', 'SNICallback'];

export const listenOptionTable: OptionTable = {
  rules: listenRules,
  hints: Object.fromEntries(TLS_KEYS.map((name) => [name, `is a TLS option: pass it in \`tls: { ${name} }\``])),
  // A Unix socket has no port or host: given both, one would be ignored.
  exclusive: [
    ['path', 'port', '`path` listens on a Unix socket, `port` on TCP'],
    ['path', 'host', '`path` listens on a Unix socket, `host` on TCP'],
  ],
  misplaced(value) {
    if (typeof value === 'number') return `use \`listen({ port: ${value} })\``;
    if (typeof value === 'string') return `use \`listen({ path: ${JSON.stringify(value)} })\` for a Unix socket, or \`listen({ port })\` for TCP`;
    return undefined;
  },
};

/** Someone used to uWebSockets' and Bun's positional flags: `publish(topic, data, isBinary, compress)`. */
function positionalFlags(value: unknown): string | undefined {
  return typeof value === 'boolean' ? "pass `{ binary, compress }` (uWebSockets' and Bun's boolean arguments are not read)" : undefined;
}

export const sendOptionTable: OptionTable = { rules: sendOptionRules, misplaced: positionalFlags };

const iterableOfConnections: OptionRule = {
  expects: 'an iterable of WebSockets (a Set, an array)',
  accepts: (value) => typeof value === 'object' && value !== null && typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function',
};

export const broadcastOptionTable: OptionTable = {
  rules: {
    ...sendOptionRules,
    except: instanceOption(WebSocket, 'a WebSocket'),
    to: iterableOfConnections,
  },
  misplaced: positionalFlags,
};
