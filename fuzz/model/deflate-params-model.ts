/**
 * permessage-deflate parameters as RFC 7692 §7.1 writes them, for the models (independent of
 * src/protocol/extensions/): what one extension element says, and whether an agreement keeps
 * to an offer.
 */

/** One element's parameters, validated. */
export interface DeflateTerms {
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  readonly serverMaxWindowBits: number | null;
  /** 'bare' when offered without a value (§7.1.2.2 allows it in an offer only). */
  readonly clientMaxWindowBits: number | 'bare' | null;
}

type Params = ReadonlyArray<readonly [string, string | true]>;

/** §7.1.2.1: "a decimal integer value without leading zeroes between 8 to 15, inclusive". */
function windowBits(value: string | true): number | null {
  if (value === true || !/^[1-9][0-9]*$/.test(value)) return null;
  const bits = Number(value);
  return bits >= 8 && bits <= 15 ? bits : null;
}

/** The terms of one element, or why it must be declined (§7.1: unknown, repeated or invalid parameters). */
export function readDeflateTerms(params: Params, side: 'offer' | 'response'): DeflateTerms | string {
  const names = params.map(([name]) => name);
  if (new Set(names).size !== names.length) return 'a parameter appears twice';
  let serverNoContextTakeover = false;
  let clientNoContextTakeover = false;
  let serverMaxWindowBits: number | null = null;
  let clientMaxWindowBits: number | 'bare' | null = null;
  for (const [name, value] of params) {
    if (name === 'server_no_context_takeover' || name === 'client_no_context_takeover') {
      if (value !== true) return `${name} has a value`;
      if (name === 'server_no_context_takeover') serverNoContextTakeover = true;
      else clientNoContextTakeover = true;
    } else if (name === 'server_max_window_bits') {
      serverMaxWindowBits = windowBits(value);
      if (serverMaxWindowBits === null) return `server_max_window_bits=${String(value)}`;
    } else if (name === 'client_max_window_bits') {
      if (value === true && side === 'offer') {
        clientMaxWindowBits = 'bare';
      } else {
        clientMaxWindowBits = windowBits(value);
        if (clientMaxWindowBits === null) return `client_max_window_bits=${String(value)}`;
      }
    } else {
      return `unknown parameter ${name}`;
    }
  }
  return { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits };
}

/** Why an agreement (a response) does not keep to an offer, or null. */
export function agreementProblem(offer: DeflateTerms, agreed: DeflateTerms): string | null {
  // §7.1.1.1: a server that accepts an offer with server_no_context_takeover includes it.
  if (offer.serverNoContextTakeover && !agreed.serverNoContextTakeover) return 'server_no_context_takeover was offered and not agreed';
  // §7.1.2.1: an offered server_max_window_bits is answered with the same or a smaller value.
  if (offer.serverMaxWindowBits !== null && (agreed.serverMaxWindowBits === null || agreed.serverMaxWindowBits > offer.serverMaxWindowBits)) {
    return `server_max_window_bits ${agreed.serverMaxWindowBits} for an offer of ${offer.serverMaxWindowBits}`;
  }
  // §7.1.2.2: client_max_window_bits only if offered, and not above an offered value.
  if (agreed.clientMaxWindowBits !== null) {
    if (offer.clientMaxWindowBits === null) return 'client_max_window_bits agreed but not offered';
    if (typeof offer.clientMaxWindowBits === 'number' && (agreed.clientMaxWindowBits as number) > offer.clientMaxWindowBits) {
      return `client_max_window_bits ${agreed.clientMaxWindowBits} above the offered ${offer.clientMaxWindowBits}`;
    }
  }
  return null;
}
