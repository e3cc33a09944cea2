import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { ErrorCode, WebSocketError } from '../protocol/errors.js';
import { clientPerMessageDeflate, type PerMessageDeflateOptions } from '../protocol/deflate.js';
import { type ClientExtensionFactory, formatExtension, type MessageExtension } from '../protocol/extensions.js';
import {
  buildClientRequest,
  DEFAULT_MAX_HEADER_SIZE,
  findHeadEnd,
  generateKey,
  HandshakeRejection,
  parseResponseHead,
  validateUpgradeResponse,
} from '../protocol/handshake.js';
import { type ConnectionOptions, WebSocket } from './websocket.js';

export interface ConnectOptions extends ConnectionOptions {
  /** Extra request headers (e.g. Authorization, Cookie). */
  headers?: Record<string, string | string[]>;
  /** Subprotocols to offer, in order of preference. */
  protocols?: string | readonly string[];
  /** The Origin header, as a browser would send it. */
  origin?: string;
  /** Time allowed for connecting and the whole handshake, ms; default 10000. */
  handshakeTimeout?: number;
  /** Largest response head in bytes; default 16 KiB. */
  maxHeaderSize?: number;
  /** TLS options for wss:// (ca, cert, rejectUnauthorized, servername...). */
  tls?: TlsConnectionOptions;
  /** Offer permessage-deflate (RFC 7692); `true` for the defaults. Default: off. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Other per-message extensions to offer. */
  extensions?: readonly ClientExtensionFactory[];
  /** Abort the connection attempt. */
  signal?: AbortSignal;
}

export const DEFAULT_CLIENT_HANDSHAKE_TIMEOUT = 10_000;

/** Parse and check a WebSocket URL (ws:, wss:; http: and https: are mapped as browsers do). */
export function parseWebSocketUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new WebSocketError(ErrorCode.INVALID_URL, `invalid URL: ${String(input)}`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new WebSocketError(ErrorCode.INVALID_URL, `the URL scheme must be ws: or wss:, got ${url.protocol}`);
  }
  // RFC 6455 §3: fragment identifiers are meaningless in WebSocket URIs.
  if (url.hash !== '') throw new WebSocketError(ErrorCode.INVALID_URL, 'a WebSocket URL cannot have a fragment');
  if (url.hostname === '') throw new WebSocketError(ErrorCode.INVALID_URL, 'the URL has no host');
  return url;
}

/**
 * Open a WebSocket connection: resolves with an open connection, or rejects with a
 * WebSocketError whose code and message say what failed.
 */
export function connect(address: string | URL, options: ConnectOptions = {}): Promise<WebSocket> {
  let url: URL;
  try {
    url = parseWebSocketUrl(address);
  } catch (error) {
    return Promise.reject(error);
  }
  const secure = url.protocol === 'wss:';
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  // URL keeps brackets around IPv6 literals; sockets want them bare.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const key = generateKey();
  const protocols = options.protocols === undefined ? [] : typeof options.protocols === 'string' ? [options.protocols] : [...options.protocols];
  let factories: ClientExtensionFactory[];
  try {
    const deflate = options.perMessageDeflate;
    factories = [...(deflate ? [clientPerMessageDeflate(deflate === true ? {} : deflate)] : []), ...(options.extensions ?? [])];
  } catch (error) {
    return Promise.reject(error);
  }
  const headers: Record<string, string | string[]> = { ...options.headers };
  if (options.origin !== undefined) headers['Origin'] = options.origin;
  let request: string;
  try {
    request = buildClientRequest({
      host: url.host,
      path: `${url.pathname || '/'}${url.search}`,
      key,
      protocols,
      extensions: factories.flatMap((f) => f.offer()).map(formatExtension).join(', '),
      headers,
    });
  } catch (error) {
    return Promise.reject(error);
  }

  return new Promise<WebSocket>((resolve, reject) => {
    const socket: Socket = secure
      ? tlsConnect({ host, port, servername: isIp(host) ? '' : host, ALPNProtocols: ['http/1.1'], ...options.tls })
      : netConnect({ host, port });
    socket.setNoDelay(true);
    const maxHeaderSize = options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE;
    let received: Buffer | null = null;
    let settled = false;
    let response: ReturnType<typeof parseResponseHead> | null = null;
    let bodyStart = 0;

    const fail = (error: WebSocketError) => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => {
      if (response !== null) return failWithStatus();
      fail(
        new WebSocketError(
          ErrorCode.HANDSHAKE_TIMEOUT,
          `no handshake response from ${url.host} within ${options.handshakeTimeout ?? DEFAULT_CLIENT_HANDSHAKE_TIMEOUT} ms`,
        ),
      );
    }, options.handshakeTimeout ?? DEFAULT_CLIENT_HANDSHAKE_TIMEOUT);
    const onAbort = () => fail(new WebSocketError(ErrorCode.HANDSHAKE_CONNECTION, 'the connection attempt was aborted'));
    if (options.signal !== undefined) {
      if (options.signal.aborted) return onAbort();
      options.signal.addEventListener('abort', onAbort, { once: true });
    }
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      options.signal?.removeEventListener('abort', onAbort);
    };

    // A refused handshake: report the status line with a snippet of the body.
    const failWithStatus = () => {
      const body = received === null ? '' : received.subarray(bodyStart, bodyStart + 512).toString('utf8');
      try {
        validateUpgradeResponse(response!, key, protocols, body);
        fail(new WebSocketError(ErrorCode.HANDSHAKE_INVALID_RESPONSE, 'invalid handshake response'));
      } catch (error) {
        fail(error as WebSocketError);
      }
    };

    const onData = (chunk: Buffer) => {
      received = received === null ? chunk : Buffer.concat([received, chunk]);
      if (response !== null) {
        // Collecting some of an error response's body for the message.
        if (received.length - bodyStart >= 200) failWithStatus();
        return;
      }
      let end: number;
      try {
        end = findHeadEnd(received, maxHeaderSize);
      } catch (error) {
        return fail(
          new WebSocketError(ErrorCode.HANDSHAKE_HEADERS_TOO_LARGE, `handshake response head larger than ${maxHeaderSize} bytes`, {
            cause: error as HandshakeRejection,
          }),
        );
      }
      if (end === -1) return;
      try {
        response = parseResponseHead(received.subarray(0, end));
      } catch (error) {
        return fail(error as WebSocketError);
      }
      bodyStart = end;
      if (response.status !== 101) {
        // Wait briefly for the body (the reason is usually there), then fail.
        const length = Number(response.headers['content-length'] ?? NaN);
        if (received.length - end >= Math.min(Number.isNaN(length) ? 200 : length, 200)) return failWithStatus();
        setTimeout(() => failWithStatus(), 200).unref();
        return;
      }
      let accepted;
      try {
        accepted = validateUpgradeResponse(response, key, protocols);
      } catch (error) {
        return fail(error as WebSocketError);
      }
      let extension: MessageExtension | null = null;
      try {
        extension = acceptExtensions(factories, accepted.extensions);
      } catch (error) {
        return fail(error as WebSocketError);
      }
      settled = true;
      cleanup();
      const ws = new WebSocket(socket, {
        role: 'client',
        options,
        url: url.href,
        ...(accepted.protocol === undefined ? {} : { protocol: accepted.protocol }),
        extension,
        head: received.subarray(end),
        deferReading: true,
      });
      resolve(ws);
      ws.emit('open');
    };
    const onError = (error: NodeJS.ErrnoException) => {
      fail(
        new WebSocketError(
          ErrorCode.HANDSHAKE_CONNECTION,
          `cannot connect to ${url.host}: ${error.code ?? error.message}${error.code ? ` (${error.message})` : ''}`,
          { cause: error },
        ),
      );
    };
    const onClose = () => {
      if (response !== null) return failWithStatus();
      fail(new WebSocketError(ErrorCode.HANDSHAKE_INVALID_RESPONSE, `${url.host} closed the connection before the handshake response`));
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(request));
  });
}

/** The server may accept at most what we offered, each extension once (RFC 6455 §9.1). */
function acceptExtensions(
  factories: readonly ClientExtensionFactory[],
  accepted: ReturnType<typeof validateUpgradeResponse>['extensions'],
): MessageExtension | null {
  let extension: MessageExtension | null = null;
  const seen = new Set<string>();
  for (const response of accepted) {
    const factory = factories.find((f) => f.name === response.name);
    if (factory === undefined) {
      throw new WebSocketError(ErrorCode.HANDSHAKE_EXTENSION, `server accepted extension "${response.name}" that was not offered`);
    }
    if (seen.has(response.name)) {
      throw new WebSocketError(ErrorCode.HANDSHAKE_EXTENSION, `server accepted extension "${response.name}" twice`);
    }
    seen.add(response.name);
    extension = factory.accept(response);
  }
  return extension;
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
