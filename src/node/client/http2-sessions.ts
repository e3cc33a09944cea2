/**
 * HTTP/2 sessions shared by connect({ http2: true }): one TLS connection per origin (made with the
 * same TLS options) carries every WebSocket to it, as browsers do (RFC 8441 §1). A session is ready for
 * WebSockets once the server's first SETTINGS frame has SETTINGS_ENABLE_CONNECT_PROTOCOL = 1
 * (RFC 8441 §3: a client MUST NOT send :protocol before). It is closed (GOAWAY) when its last
 * WebSocket or attempt is gone, and forgotten when it closes, fails or gets GOAWAY.
 */
import type { ClientHttp2Session } from 'node:http2';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { ErrorCode, WebSocketError } from '../../protocol/errors.js';
import { DEFAULT_MAX_PAYLOAD } from '../../protocol/receive/frame-parser.js';
import { loadHttp2 } from '../http2-module.js';
import { sessionMemoryFor } from '../http2-session-memory.js';
import { connectionError, isIp } from './transport.js';
import type { WebSocketTarget } from './url.js';

/** A shared session and the WebSockets (and attempts) using it. */
export class SharedSession {
  users = 0;
  /** Settled once the server's SETTINGS said whether extended CONNECT may be used. */
  readonly ready: Promise<void>;
  private usable = true;

  /** "host:port": the pool's key. */
  readonly origin: string;

  constructor(
    readonly session: ClientHttp2Session,
    target: WebSocketTarget,
    /** The TLS options it was made with. */
    readonly tls: TlsConnectionOptions,
    private readonly forget: (shared: SharedSession) => void,
  ) {
    this.origin = `${target.host}:${target.port}`;
    this.ready = new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL'
            ? unsupported(target, 'it refused h2 in the TLS handshake (ALPN): it speaks HTTP/1.1 only')
            : connectionError(target, error),
        );
      };
      session.once('error', onError);
      session.once('connect', () => {
        // RFC 9113 §3.2: HTTP/2 over TLS is agreed by ALPN; a server that agreed to nothing speaks HTTP/1.1.
        if (session.alpnProtocol !== 'h2') reject(unsupported(target, 'it did not agree to h2 in the TLS handshake (ALPN): it speaks HTTP/1.1 only'));
      });
      session.once('remoteSettings', (settings) => {
        session.off('error', onError);
        if (settings.enableConnectProtocol === true) resolve();
        else reject(unsupported(target, 'its HTTP/2 SETTINGS have no SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3)'));
      });
      session.once('close', () => reject(connectionError(target, new Error('the connection closed before the HTTP/2 SETTINGS'))));
    });
    // Failures before SETTINGS are reported by `ready`; after, each stream fails with its session.
    this.ready.catch(() => this.retire());
    session.on('error', ignoreSessionError);
    session.once('goaway', () => this.retire());
    session.once('close', () => this.retire());
  }

  /** Whether new WebSockets may use this session. */
  get open(): boolean {
    return this.usable && !this.session.closed && !this.session.destroyed;
  }

  acquire(): void {
    this.users++;
  }

  /** A WebSocket or attempt is done with the session; the last one closes it. */
  release(): void {
    this.users--;
    if (this.users === 0) {
      this.retire();
      if (!this.session.destroyed) this.session.close();
    }
  }

  private retire(): void {
    if (!this.usable) return;
    this.usable = false;
    this.forget(this);
  }
}

/** Open sessions by origin ("host:port"), each with the TLS options it was made with. */
const sessionsByOrigin = new Map<string, SharedSession[]>();

/** The open session to the target's origin made with the same TLS options, or a new one; the caller must release() it. */
export function acquireSession(target: WebSocketTarget, tls: TlsConnectionOptions | undefined): SharedSession {
  const origin = `${target.host}:${target.port}`;
  const options = tls ?? {};
  let shared = sessionsByOrigin.get(origin)?.find((candidate) => candidate.open && sameTlsOptions(candidate.tls, options));
  if (shared === undefined) {
    // SNI for host names only (RFC 6066 §3); node:http2 offers ALPN h2. The memory budget is the
    // server's default one: a large message being sent must not refuse other WebSockets' responses.
    const session = loadHttp2().connect(`https://${target.authority}`, {
      ...options,
      ...(isIp(target.host) ? { servername: '' } : {}),
      maxSessionMemory: sessionMemoryFor(DEFAULT_MAX_PAYLOAD),
    });
    shared = new SharedSession(session, target, options, forgetSession);
    const list = sessionsByOrigin.get(origin);
    if (list === undefined) sessionsByOrigin.set(origin, [shared]);
    else list.push(shared);
  }
  shared.acquire();
  return shared;
}

function forgetSession(gone: SharedSession): void {
  const list = sessionsByOrigin.get(gone.origin);
  if (list === undefined) return;
  const index = list.indexOf(gone);
  if (index !== -1) list.splice(index, 1);
  if (list.length === 0) sessionsByOrigin.delete(gone.origin);
}

/**
 * Whether a session made with TLS options `a` may carry a WebSocket asked for with `b`: the same
 * fields with the same values (Buffers and strings by content, lists element-wise, anything else,
 * such as a checkServerIdentity function or a SecureContext, by identity). A WebSocket never rides
 * on a connection whose certificate was checked under other rules.
 */
function sameTlsOptions(a: TlsConnectionOptions, b: TlsConnectionOptions): boolean {
  if (a === b) return true;
  const keys = Object.keys(a).filter((key) => (a as Record<string, unknown>)[key] !== undefined);
  const otherKeys = Object.keys(b).filter((key) => (b as Record<string, unknown>)[key] !== undefined);
  if (keys.length !== otherKeys.length) return false;
  return keys.every((key) => sameOptionValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

function sameOptionValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameOptionValue(item, b[i]));
  return false;
}

function unsupported(target: WebSocketTarget, why: string): WebSocketError {
  return new WebSocketError(
    ErrorCode.HANDSHAKE_HTTP2_UNSUPPORTED,
    `${target.authority} does not take WebSockets over HTTP/2: ${why}; connect without http2: true to use HTTP/1.1`,
  );
}

function ignoreSessionError(): void {
  // A failed session closes its streams, and each WebSocket reports its own close (1006).
}
