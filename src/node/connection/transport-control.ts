/**
 * What a connection asks of its transport beyond being a Duplex: to be dropped at once, and the
 * address of its peer. A TCP or TLS socket does both itself; an HTTP/2 stream (RFC 8441) is one of
 * many on its session's socket and answers differently.
 */
import type { Duplex } from 'node:stream';

/** NGHTTP2_CANCEL (RFC 9113 §7), as `http2.constants` has it. */
const HTTP2_CANCEL = 8;

/** The part of an Http2Stream used here (node:http2 exports no class to test with instanceof). */
interface Http2StreamLike {
  readonly rstCode: number | undefined;
  readonly closed: boolean;
  readonly session: { readonly socket?: { readonly remoteAddress?: string } } | undefined;
  close(code: number): void;
}

function isHttp2Stream(transport: Duplex): transport is Duplex & Http2StreamLike {
  return 'rstCode' in transport && typeof (transport as Partial<Http2StreamLike>).close === 'function';
}

/**
 * Drop the transport without a closing handshake (terminate(), a close timeout, a slow consumer).
 * A socket is destroyed. An HTTP/2 stream is reset with RST_STREAM CANCEL, the HTTP/2 form of a TCP
 * reset (RFC 8441 §5); destroy() would reset it with NO_ERROR, which reads as an orderly end.
 */
export function abortTransport(transport: Duplex): void {
  if (isHttp2Stream(transport) && !transport.closed && !transport.destroyed) transport.close(HTTP2_CANCEL);
  else transport.destroy();
}

/** The peer's address: the socket's, or for an HTTP/2 stream its session's socket's. */
export function remoteAddressOf(transport: Duplex): string | undefined {
  const address = (transport as { remoteAddress?: string }).remoteAddress;
  if (address !== undefined || !isHttp2Stream(transport)) return address;
  return transport.session?.socket?.remoteAddress;
}
