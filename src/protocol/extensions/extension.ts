/**
 * The extension interface: how a per-message extension that uses RSV1 (RFC 6455 §9, RFC 7692)
 * plugs into the receiver, the session and the handshake.
 */
import type { WebSocketError } from '../errors.js';
import type { ExtensionParams } from './extension-header.js';

/**
 * A negotiated per-message extension that uses RSV1 (permessage-deflate is the one
 * wsforge ships). At most one such extension is active on a connection.
 *
 * Both directions work per message: `decode` receives the payload of each frame of a
 * message whose first frame had RSV1 set, `encode` a whole outgoing message. Callbacks may
 * run synchronously or later; the receiver pauses until they do, so messages stay in order.
 */
export interface MessageExtension {
  readonly name: string;
  /** The `Sec-WebSocket-Extensions` element this side agreed to. */
  readonly agreed: ExtensionParams;
  /**
   * Decode one frame's payload of a compressed message (`fin` on the last frame).
   * Must stop and fail with WSF_ERR_MESSAGE_TOO_BIG as soon as the output passes `limit`
   * bytes for this call, so a small input cannot inflate without bound.
   */
  decode(
    payload: Buffer,
    fin: boolean,
    limit: number,
    callback: (error: WebSocketError | null, output: Buffer[] | null) => void,
  ): void;
  /** Whether a message of this size is worth encoding (below a threshold it is sent as is). */
  shouldEncode(byteLength: number): boolean;
  /** The same for a text message given as a string (its UTF-8 size counts). */
  shouldEncodeText?(text: string): boolean;
  /** Encode a whole message; the callback receives the payload to send with RSV1 set. */
  encode(data: Buffer, callback: (error: WebSocketError | null, output: Buffer | null) => void): void;
  /**
   * Encode one fragment of a message sent in pieces (`first` and `fin` mark the ends); the
   * first frame carries RSV1. Optional: without it, fragmented messages are sent uncompressed.
   */
  encodeFragment?(
    data: Buffer,
    first: boolean,
    fin: boolean,
    callback: (error: WebSocketError | null, output: Buffer | null) => void,
  ): void;
  /** Set when messages can be encoded once for many connections (see SharedEncoding); null or absent otherwise. */
  readonly sharedEncoding?: SharedEncoding | null;
  /** Release resources (zlib contexts); called once when the connection ends. */
  dispose(): void;
}

/** Server side of a negotiation: look at the client's offers for this extension name. */
export interface ServerExtensionFactory {
  readonly name: string;
  /**
   * `offers` are the client's offers with this name, in its order of preference.
   * Return the accepted extension, or null to decline. Throw WSF_ERR_HANDSHAKE_EXTENSION
   * for an offer that is malformed in a way that must fail the handshake.
   */
  accept(offers: readonly ExtensionParams[]): MessageExtension | null;
}

/** Client side of a negotiation: make the offer, then check the server's response. */
export interface ClientExtensionFactory {
  readonly name: string;
  offer(): ExtensionParams[];
  /** Check the server's response against the offer; throw WSF_ERR_HANDSHAKE_EXTENSION if invalid. */
  accept(response: ExtensionParams): MessageExtension;
}

/**
 * An encoder whose output depends only on the message and a setting (no state kept between
 * messages, e.g. permessage-deflate without context takeover): every connection that agreed on
 * the same setting would produce the same bytes, so a prepared message is encoded once for all
 * of them.
 */
export interface SharedEncoding {
  /** Names the setting: equal keys give equal output for equal input. */
  readonly key: string;
  /** Encode a whole message, independently of any connection. */
  encode(data: Buffer, callback: (error: WebSocketError | null, output: Buffer | null) => void): void;
}
