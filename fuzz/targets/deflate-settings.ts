/** permessage-deflate settings the negotiation targets choose from, and the offer each makes as the model reads it. */
import type { PerMessageDeflateOptions } from '../../src/protocol/index.js';
import type { DeflateTerms } from '../model/deflate-params-model.js';

export const CLIENT_DEFLATE: readonly PerMessageDeflateOptions[] = [
  {},
  { serverNoContextTakeover: true },
  { serverMaxWindowBits: 10 },
  { clientMaxWindowBits: 12 },
  { clientNoContextTakeover: true },
  { serverMaxWindowBits: 8, clientMaxWindowBits: 8 },
  { serverNoContextTakeover: true, clientNoContextTakeover: true },
  { serverMaxWindowBits: 15, clientMaxWindowBits: 9 },
];

export const SERVER_DEFLATE: readonly PerMessageDeflateOptions[] = [
  {},
  { serverNoContextTakeover: false, clientNoContextTakeover: false },
  { serverMaxWindowBits: 10 },
  { clientMaxWindowBits: 9 },
  { acceptOffer: (offer) => offer.clientMaxWindowBits !== undefined },
  { serverNoContextTakeover: false, serverMaxWindowBits: 8, clientMaxWindowBits: 8 },
  { clientNoContextTakeover: false },
  { serverNoContextTakeover: false, serverMaxWindowBits: 12, clientMaxWindowBits: 12 },
];

/** What a client with these options offers (clientPerMessageDeflate always offers client_max_window_bits). */
export function clientOffer(options: PerMessageDeflateOptions): DeflateTerms {
  return {
    serverNoContextTakeover: options.serverNoContextTakeover ?? false,
    clientNoContextTakeover: options.clientNoContextTakeover ?? false,
    serverMaxWindowBits: options.serverMaxWindowBits ?? null,
    clientMaxWindowBits: options.clientMaxWindowBits ?? 'bare',
  };
}
