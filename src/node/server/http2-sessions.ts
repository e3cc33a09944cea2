/**
 * Listen mode with `http2: true`: TLS connections for which ALPN chose `h2` become node:http2
 * sessions (a node:http2 server that never listens makes them), advertising
 * SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3). Every stream goes to the WebSocket server,
 * which accepts extended CONNECTs and refuses the rest. A connection that carries no stream for
 * the handshake timeout is closed with GOAWAY, as an HTTP/1.1 connection that sends no request
 * head gets 408.
 * Sessions get the memory budget of http2-session-memory.ts.
 */
import type { Http2Server, IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { loadHttp2 } from '../http2-module.js';
import { sessionMemoryFor } from '../http2-session-memory.js';

export type StreamListener = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]) => void;

/** A session's open streams, and the timer that closes it while it has none. */
class SessionActivity {
  streams = 0;
  idleTimer: NodeJS.Timeout | null = null;
  constructor(readonly session: ServerHttp2Session) {}
}

export class Http2Sessions {
  private readonly factory: Http2Server;
  private readonly sessions = new Map<ServerHttp2Session, SessionActivity>();

  constructor(
    onStream: StreamListener,
    private readonly idleTimeout: number,
    maxPayload: number,
  ) {
    this.factory = loadHttp2().createServer({ maxSessionMemory: sessionMemoryFor(maxPayload), settings: { enableConnectProtocol: true } });
    this.factory.on('session', (session: ServerHttp2Session) => this.opened(session));
    this.factory.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
      const activity = this.sessions.get(stream.session as ServerHttp2Session);
      if (activity !== undefined) {
        activity.streams++;
        if (activity.idleTimer !== null) clearTimeout(activity.idleTimer);
        activity.idleTimer = null;
        stream.once('close', () => this.streamClosed(activity));
      }
      onStream(stream, headers, rawHeaders);
    });
  }

  /** Run HTTP/2 on a TLS connection whose ALPN protocol is h2. */
  accept(socket: TLSSocket): void {
    this.factory.emit('connection', socket);
  }

  /** Close every connection with GOAWAY (the server is closing; its WebSockets are gone already). */
  closeAll(): void {
    for (const activity of this.sessions.values()) {
      if (activity.idleTimer !== null) clearTimeout(activity.idleTimer);
      activity.session.close();
    }
  }

  private opened(session: ServerHttp2Session): void {
    const activity = new SessionActivity(session);
    this.sessions.set(session, activity);
    session.on('error', ignoreSessionError);
    session.on('close', () => {
      if (activity.idleTimer !== null) clearTimeout(activity.idleTimer);
      this.sessions.delete(session);
    });
    this.armIdleTimer(activity);
  }

  private streamClosed(activity: SessionActivity): void {
    activity.streams--;
    if (activity.streams === 0 && !activity.session.closed) this.armIdleTimer(activity);
  }

  private armIdleTimer(activity: SessionActivity): void {
    activity.idleTimer = setTimeout(closeIdleSession, this.idleTimeout, activity.session);
    activity.idleTimer.unref();
  }
}

function closeIdleSession(session: ServerHttp2Session): void {
  session.close();
}

function ignoreSessionError(): void {
  // A session that fails (the peer broke HTTP/2, the socket reset) is destroyed with its streams;
  // each connection reports its own close.
}
