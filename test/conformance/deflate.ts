// permessage-deflate (RFC 7692) as the conformance driver does it, independently of wsforge's code:
// - what an offer or a response says (§7.1), and whether a server's response is a valid acceptance of the
//   client's offer (the driver as client), or a client's offer is valid (the driver as server);
// - the driver's own codec for one connection: it inflates the peer's messages with the peer's agreed window
//   and context takeover (catching a peer that refers further back than agreed), and compresses its own with
//   the window and takeover agreed for its side.
import { constants as zlibConstants, deflateRawSync } from 'node:zlib';
import { inflateMessage, TRAILER } from '../helpers/deflate-codec.js';
import type { DriverRole } from './frame-spec.js';

export const PERMESSAGE_DEFLATE = 'permessage-deflate';
const WINDOW_BITS = /^(8|9|1[0-5])$/;

export interface ExtensionElement {
  name: string;
  params: Array<[string, string | true]>;
}

/** Splits a Sec-WebSocket-Extensions value into elements (names and parameter names lower-cased, quotes removed). */
export function parseExtensionElements(header: string): ExtensionElement[] {
  const out: ExtensionElement[] = [];
  for (const part of header.split(',')) {
    if (part.trim() === '') continue;
    const [name, ...params] = part.split(';').map((p) => p.trim());
    out.push({
      name: (name ?? '').toLowerCase(),
      params: params.map((p): [string, string | true] => {
        const eq = p.indexOf('=');
        if (eq === -1) return [p.toLowerCase(), true];
        return [p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1')];
      }),
    });
  }
  return out;
}

/** The parameters of one permessage-deflate element (RFC 7692 §7.1). Window bits: a number, true (no value), or undefined. */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  clientMaxWindowBits: number | true | undefined;
}

/** Validates the parameters of an element as an offer or a response; returns why it is invalid, or the parameters. */
export function deflateParams(element: ExtensionElement, side: 'offer' | 'response'): DeflateParams | string {
  const seen = new Set<string>();
  const p: DeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: undefined, clientMaxWindowBits: undefined };
  for (const [name, value] of element.params) {
    // RFC 7692 §7: a parameter appears at most once.
    if (seen.has(name)) return `parameter ${name} appears twice`;
    seen.add(name);
    if (name === 'server_no_context_takeover' || name === 'client_no_context_takeover') {
      if (value !== true) return `${name} has a value (${value})`;
      if (name === 'server_no_context_takeover') p.serverNoContextTakeover = true;
      else p.clientNoContextTakeover = true;
    } else if (name === 'server_max_window_bits') {
      // §7.1.2.1: a value 8-15 without leading zeros, always.
      if (value === true || !WINDOW_BITS.test(value)) return `server_max_window_bits=${String(value)} is not 8-15`;
      p.serverMaxWindowBits = Number(value);
    } else if (name === 'client_max_window_bits') {
      // §7.1.2.2: the value is optional in an offer, required in a response.
      if (value === true) {
        if (side === 'response') return 'client_max_window_bits without a value in a response';
        p.clientMaxWindowBits = true;
      } else {
        if (!WINDOW_BITS.test(value)) return `client_max_window_bits=${value} is not 8-15`;
        p.clientMaxWindowBits = Number(value);
      }
    } else {
      return `unknown parameter ${name}`;
    }
  }
  return p;
}

/** Why `response` cannot accept the (valid) offer `offer`, or null when it can (RFC 7692 §7.1.1, §7.1.2). */
function whyNotAcceptance(offer: DeflateParams, response: DeflateParams): string | null {
  // §7.1.1.1: an offer's server_no_context_takeover is accepted by including it.
  if (offer.serverNoContextTakeover && !response.serverNoContextTakeover) return 'server_no_context_takeover was offered but is missing';
  // §7.1.2.1: an offer's server_max_window_bits is accepted with the same or a smaller value.
  if (offer.serverMaxWindowBits !== undefined) {
    if (response.serverMaxWindowBits === undefined) return `server_max_window_bits=${offer.serverMaxWindowBits} was offered but is missing`;
    if (response.serverMaxWindowBits > offer.serverMaxWindowBits) return `server_max_window_bits=${response.serverMaxWindowBits} is above the offered ${offer.serverMaxWindowBits}`;
  }
  // §7.1.2.2: client_max_window_bits only if offered, and not above an offered value.
  if (typeof response.clientMaxWindowBits === 'number') {
    if (offer.clientMaxWindowBits === undefined) return 'client_max_window_bits was not offered';
    if (typeof offer.clientMaxWindowBits === 'number' && response.clientMaxWindowBits > offer.clientMaxWindowBits)
      return `client_max_window_bits=${response.clientMaxWindowBits} is above the offered ${offer.clientMaxWindowBits}`;
  }
  return null;
}

/**
 * Driver as client: problems with a server's Sec-WebSocket-Extensions answer to `offer` (RFC 6455 §9.1, RFC 7692 §7).
 * A server may decline (no header); what it accepts must have been offered, once, and must be a valid
 * acceptance of one of the valid permessage-deflate offers.
 */
export function checkServerResponse(offer: string | undefined, response: string | null): string[] {
  if (response === null) return [];
  const offered = offer === undefined ? [] : parseExtensionElements(offer);
  const problems: string[] = [];
  const names = new Set<string>();
  for (const element of parseExtensionElements(response)) {
    if (!offered.some((o) => o.name === element.name)) problems.push(`the server accepted "${element.name}", which was not offered (RFC 6455 §9.1)`);
    if (names.has(element.name)) problems.push(`the server accepted "${element.name}" twice`);
    names.add(element.name);
    if (element.name !== PERMESSAGE_DEFLATE) continue;
    const agreed = deflateParams(element, 'response');
    if (typeof agreed === 'string') {
      problems.push(`invalid permessage-deflate response: ${agreed} (RFC 7692 §7.1)`);
      continue;
    }
    const reasons: string[] = [];
    let accepted = false;
    for (const o of offered.filter((x) => x.name === PERMESSAGE_DEFLATE)) {
      const params = deflateParams(o, 'offer');
      if (typeof params === 'string') continue; // an invalid offer cannot be accepted
      const why = whyNotAcceptance(params, agreed);
      if (why === null) accepted = true;
      else reasons.push(why);
    }
    if (!accepted) problems.push(`the permessage-deflate response accepts none of the valid offers: ${reasons.join('; ') || 'no valid offer'} (RFC 7692 §7.1)`);
  }
  return problems;
}

/** Driver as server: problems with a client's permessage-deflate offer (each element must be valid, RFC 7692 §7.1). */
export function checkClientOffer(offer: string | null): string[] {
  if (offer === null) return [];
  const problems: string[] = [];
  for (const element of parseExtensionElements(offer)) {
    if (element.name !== PERMESSAGE_DEFLATE) continue;
    const params = deflateParams(element, 'offer');
    if (typeof params === 'string') problems.push(`invalid permessage-deflate offer: ${params}`);
  }
  return problems;
}

/** What the agreement means for one end of the connection: the driver's own side and its peer's. */
export interface DeflateAgreement {
  /** The peer resets its compressor after each message (the driver inflates each message on its own). */
  peerNoContextTakeover: boolean;
  /** LZ77 window of what the peer sends (bits). */
  peerWindowBits: number;
  /** The driver must compress each message on its own. */
  ownNoContextTakeover: boolean;
  /** LZ77 window the driver may use for what it sends (bits). */
  ownWindowBits: number;
}

/** The agreement of a permessage-deflate response, from the driver's point of view; null without one. */
export function deflateAgreement(response: string | null, role: DriverRole): DeflateAgreement | null {
  if (response === null) return null;
  const element = parseExtensionElements(response).find((e) => e.name === PERMESSAGE_DEFLATE);
  if (element === undefined) return null;
  const parsed = deflateParams(element, 'response');
  // An invalid response is reported by the handshake checks; read it as leniently as possible here.
  const p: DeflateParams =
    typeof parsed === 'string'
      ? {
          serverNoContextTakeover: element.params.some(([n]) => n === 'server_no_context_takeover'),
          clientNoContextTakeover: element.params.some(([n]) => n === 'client_no_context_takeover'),
          serverMaxWindowBits: undefined,
          clientMaxWindowBits: undefined,
        }
      : parsed;
  const server = { noTakeover: p.serverNoContextTakeover, bits: p.serverMaxWindowBits ?? 15 };
  const client = { noTakeover: p.clientNoContextTakeover, bits: typeof p.clientMaxWindowBits === 'number' ? p.clientMaxWindowBits : 15 };
  const [own, peer] = role === 'client' ? [client, server] : [server, client];
  return { peerNoContextTakeover: peer.noTakeover, peerWindowBits: peer.bits, ownNoContextTakeover: own.noTakeover, ownWindowBits: own.bits };
}

/**
 * One connection's permessage-deflate codec. Context takeover is done with preset dictionaries: a message
 * compressed with the previous messages' last 2^bits bytes as dictionary refers into them exactly as a
 * continued zlib stream would, and is inflated the same way; so both directions stay synchronous.
 */
export class DeflateCodec {
  private peerWindow: Buffer = Buffer.alloc(0);
  private ownWindow: Buffer = Buffer.alloc(0);

  constructor(readonly agreement: DeflateAgreement) {}

  /**
   * RFC 7692 §7.2.2: append 00 00 ff ff and inflate. Throws on invalid data, including a reference further back
   * than the peer's agreed window (inflateMessage inflates in small pieces below a 32 KiB window for that).
   */
  inflate(payload: Buffer): Buffer {
    const a = this.agreement;
    const bits = Math.max(8, Math.min(15, a.peerWindowBits));
    const out = inflateMessage(payload, bits, a.peerNoContextTakeover ? undefined : this.peerWindow);
    if (!a.peerNoContextTakeover) this.peerWindow = tail(this.peerWindow, out, 1 << bits);
    return out;
  }

  /**
   * RFC 7692 §7.2.1: compress with a sync flush and remove the 00 00 ff ff tail, within the driver's agreed window,
   * referring to earlier messages only when the agreement lets the driver take over its context. zlib has no
   * 256-byte raw window, so with 8 bits the driver sends stored blocks (no back-references at all).
   */
  deflate(data: Buffer): Buffer {
    const a = this.agreement;
    const bits = Math.max(8, Math.min(15, a.ownWindowBits));
    const stored = bits === 8;
    const dictionary = !a.ownNoContextTakeover && !stored && this.ownWindow.length > 0 ? this.ownWindow : undefined;
    const out = deflateRawSync(data, {
      finishFlush: zlibConstants.Z_SYNC_FLUSH,
      windowBits: stored ? 15 : bits,
      level: stored ? 0 : zlibConstants.Z_DEFAULT_COMPRESSION,
      ...(dictionary !== undefined ? { dictionary } : {}),
    });
    if (!out.subarray(out.length - 4).equals(TRAILER)) throw new Error('zlib did not end the sync flush with 00 00 ff ff');
    if (!a.ownNoContextTakeover) this.ownWindow = tail(this.ownWindow, data, 1 << bits);
    return out.subarray(0, out.length - 4);
  }
}

/** The last `size` bytes of `a` followed by `b`. */
function tail(a: Buffer, b: Buffer, size: number): Buffer {
  if (b.length >= size) return Buffer.from(b.subarray(b.length - size));
  const joined = Buffer.concat([a, b]);
  return joined.subarray(Math.max(0, joined.length - size));
}
