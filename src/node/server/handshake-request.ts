/**
 * The HandshakeRequest hooks and 'connection' listeners see, built from an HTTP/1.1 head. The
 * query and the remote address are computed on first use: reading `socket.remoteAddress` makes
 * Node cache the peer name on the socket, which every idle connection would then carry.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ExtensionParams } from '../../protocol/extensions/extension-header.js';
import type { HandshakeRequest } from '../../protocol/handshake/decision.js';
import type { HandshakeOffers } from '../../protocol/handshake/offers.js';
import type { HeaderMap, HttpRequestHead } from '../../protocol/http1/head-parser.js';

export class IncomingHandshake implements HandshakeRequest {
  readonly transport: 'http/1.1' | 'h2';
  readonly method: string;
  readonly url: string;
  readonly path: string;
  readonly headers: Readonly<HeaderMap>;
  readonly origin: string | undefined;
  readonly protocols: readonly string[];
  readonly extensions: readonly ExtensionParams[];
  private readonly queryStart: number;
  private parsedQuery: URLSearchParams | null = null;

  constructor(
    transport: 'http/1.1' | 'h2',
    method: string,
    target: string,
    headers: HeaderMap,
    offers: HandshakeOffers,
    private readonly socket: Duplex,
    /** The node:http request, in attach() and handleUpgrade() mode. */
    readonly httpRequest?: IncomingMessage,
  ) {
    this.transport = transport;
    this.method = method;
    this.url = target;
    this.queryStart = target.indexOf('?');
    this.path = this.queryStart === -1 ? target : target.slice(0, this.queryStart);
    this.headers = headers;
    this.origin = headers['origin'];
    this.protocols = offers.protocols;
    this.extensions = offers.extensions;
  }

  get query(): URLSearchParams {
    return (this.parsedQuery ??= new URLSearchParams(this.queryStart === -1 ? '' : this.url.slice(this.queryStart + 1)));
  }

  get remoteAddress(): string | undefined {
    return (this.socket as Partial<Socket>).remoteAddress;
  }
}

/** The head of a request node:http has parsed, in the form the handshake checks take. */
export function headOfIncomingMessage(request: IncomingMessage): HttpRequestHead {
  const headers: HeaderMap = Object.create(null) as HeaderMap;
  const headerCounts: Record<string, number> = Object.create(null) as Record<string, number>;
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${previous}, ${value}`;
    headerCounts[name] = (headerCounts[name] ?? 0) + 1;
  }
  return { method: request.method ?? '', target: request.url ?? '/', httpVersion: request.httpVersion, headers, headerCounts };
}

/** The size of a parsed head as it came on the wire (request line and header lines), for maxHeaderSize. */
export function headSize(request: IncomingMessage): number {
  let size = (request.method?.length ?? 0) + (request.url?.length ?? 0) + 12;
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) size += raw[i]!.length + raw[i + 1]!.length + 4;
  return size + 2;
}
