/**
 * ws's client options (`new WebSocket(address, protocols, options)`, ws's doc/ws.md) and what
 * each becomes on wsforge's `connect()`. ws passes what it does not know to http.request, which
 * ignores most of it; here the TLS options go to tls.connect (as https.request would hand them
 * on), the options wsforge has no use for are accepted and ignored as documented, and anything
 * else is refused with an InvalidOptionError naming it: an option that silently does nothing is
 * a mistake found in production (docs/MIGRATING.md, "The client").
 */
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { type ConnectOptions, InvalidOptionError } from '../index.js';
import { deflateOptions, type PerMessageDeflateOptions } from './options.js';

/** The TLS options passed on to tls.connect for wss:// (ws passes them through https.request). */
const TLS_OPTIONS = [
  'ca',
  'cert',
  'key',
  'pfx',
  'passphrase',
  'rejectUnauthorized',
  'servername',
  'checkServerIdentity',
  'ciphers',
  'crl',
  'ecdhCurve',
  'honorCipherOrder',
  'minVersion',
  'maxVersion',
  'secureContext',
  'secureOptions',
  'secureProtocol',
  'sessionIdContext',
  'sigalgs',
  'dhparam',
  'privateKeyEngine',
  'privateKeyIdentifier',
  'clientCertEngine',
  'session',
  'ALPNProtocols',
] as const;

type TlsOptionName = (typeof TLS_OPTIONS)[number];

export interface ClientOptions extends Pick<TlsConnectionOptions, Exclude<TlsOptionName, 'dhparam' | 'privateKeyEngine' | 'privateKeyIdentifier' | 'clientCertEngine'>> {
  /** Extra request headers; numbers are sent as their decimal text. */
  headers?: Record<string, string | number | readonly string[]>;
  /** Time for connecting and the whole opening handshake, ms; default wsforge's 10000 (ws: none). */
  handshakeTimeout?: number;
  /** The Origin header. */
  origin?: string;
  /** 13 (RFC 6455), the only version sent; ws's 8 (hybi-08) is refused with a RangeError. */
  protocolVersion?: number;
  /** Offer permessage-deflate (RFC 7692); default true, as in ws. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Largest message in bytes (after decompression); default wsforge's 16 MiB (ws: 100 MiB); 0 keeps the default. */
  maxPayload?: number;
  /** Most frames in one message; default wsforge's 262,144. */
  maxFragments?: number;
  /** Answer pings (default true). */
  autoPong?: boolean;
  /** How long to wait for the peer's close frame, ms; default wsforge's 5000. */
  closeTimeout?: number;
  /** Follow 3xx answers with a Location header (default false). */
  followRedirects?: boolean;
  /** Most redirects to follow (default 10). */
  maxRedirects?: number;
  /** `user:password` for HTTP Basic authentication, sent unless `headers` has an Authorization. */
  auth?: string;
  /** Not supported: wsforge always validates UTF-8, failing fast (RFC 6455 §8.1). */
  skipUTF8Validation?: boolean;
  /** Ignored: masks always come from node:crypto (RFC 6455 §5.3 wants them unpredictable). */
  generateMask?: (mask: Buffer) => void;
  /** Ignored: events are always emitted synchronously (ws's default). */
  allowSynchronousEvents?: boolean;
  /** Ignored: message assembly is bounded by `maxFragments` and `maxPayload`. */
  maxBufferedChunks?: number;
  /** Ignored: pongs count in the connection's output, which is bounded. */
  maxPendingAutoPongs?: number;
  dhparam?: string | Buffer;
  privateKeyEngine?: string;
  privateKeyIdentifier?: string;
  clientCertEngine?: string;
}

/** Accepted and not used: what each means is in ClientOptions. */
const IGNORED = new Set(['skipUTF8Validation', 'generateMask', 'allowSynchronousEvents', 'maxBufferedChunks', 'maxPendingAutoPongs']);

type ValueCheck = readonly [expects: string, accepts: (value: unknown) => boolean];

const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value);
const BOOLEAN: ValueCheck = ['true or false', (value) => typeof value === 'boolean'];
const STRING: ValueCheck = ['a string', (value) => typeof value === 'string'];
const COUNT: ValueCheck = ['an integer from 0', (value) => typeof value === 'number' && Number.isInteger(value) && value >= 0];
const DURATION: ValueCheck = ['a number of milliseconds above 0', (value) => typeof value === 'number' && value > 0 && Number.isFinite(value)];

/** The options mapped onto connect(), and the type each takes (checked here, so the constructor throws). */
const MAPPED: Readonly<Record<string, ValueCheck>> = {
  headers: ['an object of header fields', isObject],
  handshakeTimeout: DURATION,
  origin: STRING,
  protocolVersion: ['13', () => true],
  perMessageDeflate: ['true, false or an object of permessage-deflate options', (value) => typeof value === 'boolean' || isObject(value)],
  maxPayload: COUNT,
  maxFragments: COUNT,
  autoPong: BOOLEAN,
  closeTimeout: DURATION,
  followRedirects: BOOLEAN,
  maxRedirects: COUNT,
  auth: STRING,
};

const TLS_SET: ReadonlySet<string> = new Set(TLS_OPTIONS);

/** ws's http.request options that wsforge does not support, and what to do instead. */
const REFUSED: Readonly<Record<string, string>> = {
  agent: 'wsforge opens its own sockets: for a proxy use connect() from "wsforge" with `proxy`',
  createConnection: 'wsforge opens its own sockets: use connect() from "wsforge" with `socketPath` or `proxy`',
  finishRequest: 'add request headers with `headers`',
  lookup: 'name resolution is the system resolver\'s (connect to an IP address to choose one)',
  family: 'name resolution is the system resolver\'s (connect to an IP address to choose the family)',
  localAddress: 'the local address is chosen by the system',
  localPort: 'the local port is chosen by the system',
  timeout: 'use `handshakeTimeout` (ms)',
  socketPath: 'use a ws+unix: URL (`ws+unix:///path/to.sock:/request/path`)',
  protocols: 'subprotocols go in the second argument: `new WebSocket(url, protocols, options)`',
  mask: 'a client masks every frame (RFC 6455 §5.3)',
};

const WHERE = 'new WebSocket(address, protocols, options)';

/** ws's supported versions (RangeError message as ws's). */
const PROTOCOL_VERSIONS = [13];

export const DEFAULT_MAX_REDIRECTS = 10;

/** Check the options as ws would (RangeError for protocolVersion) and as wsforge does (unknown keys). */
export function checkClientOptions(options: unknown): ClientOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidOptionError('', `${WHERE}: the options must be an object, got ${typeof options}`);
  }
  const record = options as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (value === undefined || IGNORED.has(key) || TLS_SET.has(key)) continue;
    const check = Object.hasOwn(MAPPED, key) ? MAPPED[key] : undefined;
    if (check !== undefined) {
      if (!check[1](value)) throw new InvalidOptionError(key, `${WHERE}: option \`${key}\` must be ${check[0]}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
      continue;
    }
    const hint = REFUSED[key];
    throw new InvalidOptionError(key, `${WHERE}: option \`${key}\` is not supported by wsforge/ws${hint === undefined ? '' : `: ${hint}`}`);
  }
  const version = record['protocolVersion'];
  if (version !== undefined && !PROTOCOL_VERSIONS.includes(version as number)) {
    throw new RangeError(`Unsupported protocol version: ${String(version)} (supported versions: ${PROTOCOL_VERSIONS.join(', ')})`);
  }
  const headers = record['headers'];
  if (headers !== null && typeof headers === 'object' && Object.keys(headers).some((name) => name.toLowerCase() === 'host')) {
    // wsforge writes Host from the URL (RFC 9112 §3.2); a second one would be refused by servers.
    throw new InvalidOptionError('headers.host', `${WHERE}: a \`Host\` header is not supported by wsforge/ws: the URL gives it`);
  }
  return record as ClientOptions;
}

/** The request headers, names lowercased (as ws keeps them when following redirects), Basic auth added. */
export function requestHeaders(options: ClientOptions, urlAuth: string): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : [...value];
  }
  // ws (like curl): an Authorization header given wins over credentials in `auth` or the URL.
  const auth = options.auth ?? urlAuth;
  if (auth !== '' && headers['authorization'] === undefined) headers['authorization'] = `Basic ${Buffer.from(auth).toString('base64')}`;
  return headers;
}

/** connect()'s options for ws's; headers and protocols are added per attempt (redirects change them). */
export function connectOptionsFor(options: ClientOptions): ConnectOptions {
  const mapped: ConnectOptions = {
    // ws's client offers permessage-deflate unless told not to; wsforge's inflate is bounded
    // (maxPayload, a fixed window), so following ws here costs no safety.
    perMessageDeflate: deflateOptions(options.perMessageDeflate ?? true),
    // ws delivers text as the Buffer of its bytes.
    textAsBuffer: true,
    // ws has no keepalive of its own: its users ping (README "How to detect and close broken connections").
    pingInterval: 0,
    // The ws API has no proxy option; the environment's proxy settings are not ws's behaviour either.
    proxy: false,
  };
  if (options.handshakeTimeout !== undefined) mapped.handshakeTimeout = options.handshakeTimeout;
  if (options.origin !== undefined) mapped.origin = options.origin;
  if (options.maxPayload !== undefined && options.maxPayload > 0) mapped.maxPayload = options.maxPayload;
  if (options.maxFragments !== undefined && options.maxFragments > 0) mapped.maxFragments = options.maxFragments;
  if (options.autoPong !== undefined) mapped.autoPong = options.autoPong;
  if (options.closeTimeout !== undefined) mapped.closeTimeout = options.closeTimeout;
  const tls: Record<string, unknown> = {};
  let anyTls = false;
  for (const name of TLS_OPTIONS) {
    const value = (options as Record<string, unknown>)[name];
    if (value === undefined) continue;
    tls[name] = value;
    anyTls = true;
  }
  if (anyTls) mapped.tls = tls as TlsConnectionOptions;
  return mapped;
}
