/**
 * What a connection asks of its transport beyond being a Duplex: to be dropped at once, and the
 * address of its peer. A TCP or TLS socket does both itself; an HTTP/2 stream (RFC 8441) is one of
 * many on its session's socket and answers differently.
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';

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

/**
 * Drop the transport of a peer that will not take what it was sent (a slow consumer, a dead peer)
 * with a TCP reset. destroy() closes the descriptor but leaves the kernel holding the socket's
 * unsent bytes, retrying them for minutes against a window that stays shut; with thousands of such
 * peers that is hundreds of MiB of kernel memory and TCP memory pressure for every connection. A
 * reset (SO_LINGER 0) frees them at once. Node can reset only a plain TCP socket: a TLS socket (its
 * handle is the TLS layer's) and an HTTP/2 stream are dropped as abortTransport() drops them.
 */
export function resetTransport(transport: Duplex): void {
  if (transport instanceof Socket && !(transport instanceof TLSSocket) && !transport.destroyed && !transport.connecting) transport.resetAndDestroy();
  else abortTransport(transport);
}

/** The peer's address: the socket's, or for an HTTP/2 stream its session's socket's. */
export function remoteAddressOf(transport: Duplex): string | undefined {
  const address = (transport as { remoteAddress?: string }).remoteAddress;
  if (address !== undefined || !isHttp2Stream(transport)) return address;
  return transport.session?.socket?.remoteAddress;
}
