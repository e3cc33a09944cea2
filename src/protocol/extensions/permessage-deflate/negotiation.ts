/**
 * Negotiating permessage-deflate (RFC 7692 §5, §7.1): the server's choice among the client's
 * offers, and the client's offer and its check of the response; memory stays bounded.
 *
 * Memory is what makes compression dangerous on servers: a zlib deflate context costs
 * (1 << (windowBits + 2)) + (1 << (memLevel + 9)) bytes, 256 KiB at zlib's defaults, and an
 * inflate context (1 << windowBits) + ~7 KiB. Kept per connection, 10,000 connections hold
 * gigabytes (ws#1202). So by default wsforge negotiates no context takeover in both
 * directions (RFC 7692 §7.1.1: a server may add both parameters on its own): each message
 * is compressed on its own, contexts come from a small shared pool, and an idle connection
 * holds no zlib memory at all. Context takeover, which compresses small repetitive messages
 * better, is an opt-in with its per-connection cost documented in the README.
 *
 * Every zlib job goes through one process-wide limiter, so at most `concurrency` jobs use
 * the thread pool (and hold a pooled context) at once.
 */
import { ErrorCode, WebSocketError } from '../../errors.js';
import { checkOptions } from '../../options/check-options.js';
import type { ClientExtensionFactory, ServerExtensionFactory } from '../extension.js';
import { PerMessageDeflate, termsCache } from './codec.js';
import { clientDeflateOptionTable, serverDeflateOptionTable } from './option-table.js';
import { type DeflateOffer, parseDeflateParams, PERMESSAGE_DEFLATE, type PerMessageDeflateOptions } from './params.js';
import { setConcurrency } from './zlib-pool.js';

/** The server side: accept the first acceptable offer (RFC 7692 §5, §7). */
export function serverPerMessageDeflate(options: PerMessageDeflateOptions = {}): ServerExtensionFactory {
  checkOptions(options, serverDeflateOptionTable, 'serverPerMessageDeflate()');
  setConcurrency(options.concurrency);
  const serverNoTakeover = options.serverNoContextTakeover ?? true;
  const clientNoTakeover = options.clientNoContextTakeover ?? true;
  const serverBits = options.serverMaxWindowBits ?? 15;
  const clientBits = options.clientMaxWindowBits ?? 15;
  const terms = termsCache();
  return {
    name: PERMESSAGE_DEFLATE,
    accept(offers) {
      for (const element of offers) {
        const offer = parseDeflateParams(element, 'offer');
        // §7.1: an invalid offer is declined; the next one may still be accepted.
        if (typeof offer === 'string') continue;
        if (options.acceptOffer !== undefined && !options.acceptOffer(offer)) continue;
        const params: Array<[string, string | true]> = [];
        const sendTakeover = !(offer.serverNoContextTakeover || serverNoTakeover);
        if (!sendTakeover) params.push(['server_no_context_takeover', true]);
        // §7.1.1.2: the server may forbid the client's context takeover even if not offered.
        const receiveTakeover = !(offer.clientNoContextTakeover || clientNoTakeover);
        if (!receiveTakeover) params.push(['client_no_context_takeover', true]);
        // §7.1.2.1: answer with a window no larger than the client allowed.
        let sendWindowBits = serverBits;
        if (offer.serverMaxWindowBits !== undefined) sendWindowBits = Math.min(offer.serverMaxWindowBits, serverBits);
        if (offer.serverMaxWindowBits !== undefined || sendWindowBits < 15) {
          params.push(['server_max_window_bits', String(sendWindowBits)]);
        }
        // §7.1.2.2: client_max_window_bits may only be answered when offered.
        let receiveWindowBits = 15;
        if (offer.clientMaxWindowBits !== undefined) {
          const offered = offer.clientMaxWindowBits === true ? 15 : offer.clientMaxWindowBits;
          receiveWindowBits = Math.min(offered, clientBits);
          if (receiveWindowBits < 15 || offer.clientMaxWindowBits !== true) {
            params.push(['client_max_window_bits', String(receiveWindowBits)]);
          }
        }
        return new PerMessageDeflate(
          terms({ name: PERMESSAGE_DEFLATE, params }, { sendTakeover, receiveTakeover, sendWindowBits, receiveWindowBits }, options),
        );
      }
      return null;
    },
  };
}

/** The client side: one offer; the response is checked against it (RFC 7692 §5, §7). */
export function clientPerMessageDeflate(options: PerMessageDeflateOptions = {}): ClientExtensionFactory {
  checkOptions(options, clientDeflateOptionTable, 'clientPerMessageDeflate()');
  setConcurrency(options.concurrency);
  const askServerNoTakeover = options.serverNoContextTakeover ?? false;
  const clientNoTakeover = options.clientNoContextTakeover ?? false;
  const fail = (why: string): never => {
    throw new WebSocketError(ErrorCode.HANDSHAKE_EXTENSION, `invalid permessage-deflate response: ${why}`);
  };
  const terms = termsCache();
  return {
    name: PERMESSAGE_DEFLATE,
    offer() {
      const params: Array<[string, string | true]> = [];
      if (askServerNoTakeover) params.push(['server_no_context_takeover', true]);
      if (clientNoTakeover) params.push(['client_no_context_takeover', true]);
      if (options.serverMaxWindowBits !== undefined) params.push(['server_max_window_bits', String(options.serverMaxWindowBits)]);
      // Offering client_max_window_bits tells the server we can use a smaller window if asked.
      params.push(['client_max_window_bits', options.clientMaxWindowBits === undefined ? true : String(options.clientMaxWindowBits)]);
      return [{ name: PERMESSAGE_DEFLATE, params }];
    },
    accept(response) {
      const agreed = parseDeflateParams(response, 'response');
      if (typeof agreed === 'string') fail(agreed);
      const accepted = agreed as DeflateOffer;
      // §7.1.1.1: what we asked for must be granted.
      if (askServerNoTakeover && !accepted.serverNoContextTakeover) fail('server_no_context_takeover was requested');
      if (options.serverMaxWindowBits !== undefined) {
        if (accepted.serverMaxWindowBits === undefined) fail('server_max_window_bits was requested');
        if (accepted.serverMaxWindowBits! > options.serverMaxWindowBits) fail('server_max_window_bits above the requested value');
      }
      const clientBits = accepted.clientMaxWindowBits as number | undefined;
      if (clientBits !== undefined && options.clientMaxWindowBits !== undefined && clientBits > options.clientMaxWindowBits) {
        fail('client_max_window_bits above the offered value');
      }
      return new PerMessageDeflate(
        terms(
          response,
          {
            sendTakeover: !(accepted.clientNoContextTakeover || clientNoTakeover),
            receiveTakeover: !accepted.serverNoContextTakeover,
            sendWindowBits: clientBits ?? options.clientMaxWindowBits ?? 15,
            receiveWindowBits: accepted.serverMaxWindowBits ?? 15,
          },
          options,
        ),
      );
    },
  };
}
