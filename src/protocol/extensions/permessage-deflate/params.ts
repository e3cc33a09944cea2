/**
 * permessage-deflate (RFC 7692) parameters: the options, an offer as parsed, and the parser of
 * one extension element's parameters (§7.1).
 */
import type { ExtensionParams } from '../extension-header.js';

export const PERMESSAGE_DEFLATE = 'permessage-deflate';

export interface PerMessageDeflateOptions {
  /**
   * Server: compress each outgoing message on its own (no per-connection deflate context).
   * Client: ask the server to do so. Default: true on the server, false on the client.
   */
  serverNoContextTakeover?: boolean;
  /**
   * Server: require the client to compress each message on its own (no per-connection
   * inflate context on the server). Client: promise to do so. Default: true on the server,
   * false on the client.
   */
  clientNoContextTakeover?: boolean;
  /** Largest LZ77 window (8-15) for what the server sends. Default 15. */
  serverMaxWindowBits?: number;
  /** Largest LZ77 window (8-15) for what the client sends (only when the client offered the parameter). Default 15. */
  clientMaxWindowBits?: number;
  /** zlib compression level 0-9. Default 6 (zlib's default). */
  level?: number;
  /** zlib memLevel 1-9 for compression contexts. Default 8 (zlib's default). */
  memLevel?: number;
  /** Messages smaller than this many bytes are sent uncompressed. Default 1024. */
  threshold?: number;
  /** Most zlib jobs running at once, process-wide (first value set wins). Default 10. */
  concurrency?: number;
  /**
   * Server only: look at each valid offer (in the client's order) and return false to decline
   * it, e.g. to accept only clients that allow a smaller window.
   */
  acceptOffer?: (offer: DeflateOffer) => boolean;
}

/** A parsed and validated permessage-deflate offer (RFC 7692 §7.1). */
export interface DeflateOffer {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** undefined when absent. */
  serverMaxWindowBits: number | undefined;
  /** undefined when absent, true when present without a value. */
  clientMaxWindowBits: number | true | undefined;
}

export const DEFAULT_DEFLATE_THRESHOLD = 1024;
export const DEFAULT_ZLIB_CONCURRENCY = 10;

const WINDOW_BITS = /^(8|9|1[0-5])$/;

/**
 * Parse the parameters of one permessage-deflate element. Returns a string saying why for an
 * element that must be declined or refused (RFC 7692 §7.1: unknown parameter, invalid value,
 * repeated parameter).
 */
export function parseDeflateParams(element: ExtensionParams, side: 'offer' | 'response'): DeflateOffer | string {
  const seen = new Set<string>();
  const result: DeflateOffer = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  for (const [name, value] of element.params) {
    if (seen.has(name)) return `parameter ${name} appears twice`;
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (value !== true) return `${name} takes no value`;
        if (name === 'server_no_context_takeover') result.serverNoContextTakeover = true;
        else result.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits':
        if (value === true || !WINDOW_BITS.test(value)) return `invalid server_max_window_bits ${String(value)}`;
        result.serverMaxWindowBits = Number(value);
        break;
      case 'client_max_window_bits':
        if (value === true) {
          // §7.1.2.2: a value is optional in an offer, required in a response.
          if (side === 'response') return 'client_max_window_bits needs a value in a response';
          result.clientMaxWindowBits = true;
        } else {
          if (!WINDOW_BITS.test(value)) return `invalid client_max_window_bits ${value}`;
          result.clientMaxWindowBits = Number(value);
        }
        break;
      default:
        return `unknown parameter ${name}`;
    }
  }
  return result;
}

