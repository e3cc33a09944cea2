/**
 * Target `extension-negotiation`: the Sec-WebSocket-Extensions header (RFC 6455 §9.1) and
 * permessage-deflate's parameters (RFC 7692 §7.1), on both sides: parseExtensionHeader,
 * formatExtension, parseDeflateParams, serverPerMessageDeflate().accept and
 * clientPerMessageDeflate().accept, each against a model written from the RFCs.
 *
 * Input: a settings byte, then the header value (latin1).
 *   bits 0-2: the server's options (SERVER_DEFLATE)   bits 3-5: the client's options (CLIENT_DEFLATE)
 * Invariants: nothing is thrown but WSF_ERR_HANDSHAKE_EXTENSION; the list parses exactly as the
 * model reads it, and formatting it parses back to the same list; each permessage-deflate element
 * is valid or not as the model says, on either side; the server accepts the first offer the
 * model finds valid (and its options allow), with an agreement that is a valid response (window
 * bits 8-15: undici's 2026 advisory had other values crash the process), keeps to the offer and
 * to the server's options, or declines when no offer is valid; the client accepts a response
 * exactly when it is valid and grants what it offered.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  clientPerMessageDeflate,
  type DeflateOffer,
  type ExtensionParams,
  formatExtension,
  type MessageExtension,
  parseDeflateParams,
  parseExtensionHeader,
  type PerMessageDeflateOptions,
  serverPerMessageDeflate,
  WebSocketError,
} from '../../src/protocol/index.js';
import { agreementProblem, type DeflateTerms, readDeflateTerms } from '../model/deflate-params-model.js';
import { readExtensionList } from '../model/extension-list-model.js';
import { check, type FuzzTarget, InvariantViolation, textTokens } from '../target.js';
import { CLIENT_DEFLATE, clientOffer, SERVER_DEFLATE } from './deflate-settings.js';

const serverFactories = SERVER_DEFLATE.map((options) => serverPerMessageDeflate(options));
const clientFactories = CLIENT_DEFLATE.map((options) => clientPerMessageDeflate(options));

function onlyExtensionErrors<T>(step: string, run: () => T): T | WebSocketError {
  try {
    return run();
  } catch (error) {
    if (error instanceof WebSocketError && error.code === 'WSF_ERR_HANDSHAKE_EXTENSION') return error;
    throw new InvariantViolation(`${step} threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }
}

/** The library's reading of an element, in the model's terms. */
function asTerms(offer: DeflateOffer): DeflateTerms {
  return {
    serverNoContextTakeover: offer.serverNoContextTakeover,
    clientNoContextTakeover: offer.clientNoContextTakeover,
    serverMaxWindowBits: offer.serverMaxWindowBits ?? null,
    clientMaxWindowBits: offer.clientMaxWindowBits === true ? 'bare' : (offer.clientMaxWindowBits ?? null),
  };
}

function libraryOffer(terms: DeflateTerms): DeflateOffer {
  return {
    serverNoContextTakeover: terms.serverNoContextTakeover,
    clientNoContextTakeover: terms.clientNoContextTakeover,
    serverMaxWindowBits: terms.serverMaxWindowBits ?? undefined,
    clientMaxWindowBits: terms.clientMaxWindowBits === 'bare' ? true : (terms.clientMaxWindowBits ?? undefined),
  };
}

/** Why a server's agreement does not honour its own options for this offer, or null. */
function serverOptionsProblem(options: PerMessageDeflateOptions, offer: DeflateTerms, agreed: DeflateTerms): string | null {
  if (agreed.serverNoContextTakeover !== (offer.serverNoContextTakeover || (options.serverNoContextTakeover ?? true))) return 'server_no_context_takeover';
  if (agreed.clientNoContextTakeover !== (offer.clientNoContextTakeover || (options.clientNoContextTakeover ?? true))) return 'client_no_context_takeover';
  if ((agreed.serverMaxWindowBits ?? 15) > (options.serverMaxWindowBits ?? 15)) return 'server_max_window_bits above the option';
  if (typeof agreed.clientMaxWindowBits === 'number' && agreed.clientMaxWindowBits > (options.clientMaxWindowBits ?? 15)) return 'client_max_window_bits above the option';
  return null;
}

function checkServer(settings: number, offers: readonly ExtensionParams[]): void {
  const options = SERVER_DEFLATE[settings & 7]!;
  const outcome = onlyExtensionErrors('serverPerMessageDeflate().accept', () => serverFactories[settings & 7]!.accept(offers));
  check(!(outcome instanceof WebSocketError), 'the server failed the handshake on offers it must decline (RFC 7692 §7)');
  // The first offer that is valid and that the application's acceptOffer takes.
  let chosen: DeflateTerms | null = null;
  for (const element of offers) {
    const terms = readDeflateTerms(element.params, 'offer');
    if (typeof terms === 'string') continue;
    if (options.acceptOffer !== undefined && !options.acceptOffer(libraryOffer(terms))) continue;
    chosen = terms;
    break;
  }
  if (outcome === null) {
    check(chosen === null, 'the server declined a valid offer');
    return;
  }
  try {
    check(chosen !== null, () => `the server accepted ${offers.map(formatExtension).join(', ')}: no valid offer`);
    const agreed = readDeflateTerms(outcome.agreed.params, 'response');
    if (typeof agreed === 'string') throw new InvariantViolation(`the server agreed to ${formatExtension(outcome.agreed)}: ${agreed}`);
    const problem = agreementProblem(chosen, agreed) ?? serverOptionsProblem(options, chosen, agreed);
    check(problem === null, () => `the server's ${formatExtension(outcome.agreed)} for the first valid offer: ${problem}`);
  } finally {
    outcome.dispose();
  }
}

function checkClient(settings: number, response: ExtensionParams): void {
  const options = CLIENT_DEFLATE[(settings >> 3) & 7]!;
  const outcome = onlyExtensionErrors('clientPerMessageDeflate().accept', () => clientFactories[(settings >> 3) & 7]!.accept(response));
  const terms = readDeflateTerms(response.params, 'response');
  const why = typeof terms === 'string' ? terms : agreementProblem(clientOffer(options), terms);
  if (outcome instanceof WebSocketError) {
    check(why !== null, () => `the client refused ${formatExtension(response)}, a valid answer to its offer: ${outcome.message}`);
    return;
  }
  const extension: MessageExtension = outcome;
  extension.dispose();
  check(why === null, () => `the client accepted ${formatExtension(response)}: ${why}`);
}

export const fuzzTarget: FuzzTarget = {
  name: 'extension-negotiation',
  description: 'parseExtensionHeader, parseDeflateParams and both sides of the permessage-deflate negotiation',
  maxLength: 512,
  dictionary: textTokens(
    'permessage-deflate',
    'x-webkit-deflate-frame',
    '; server_no_context_takeover',
    '; client_no_context_takeover',
    '; server_max_window_bits',
    '; client_max_window_bits',
    'server_max_window_bits=',
    'client_max_window_bits=',
    '=8',
    '=15',
    '=16',
    '=7',
    '=08',
    '="10"',
    '="1\\0"',
    ', ',
    '; ',
    ' \t',
    '"',
    '\\',
  ),
  run(input) {
    const settings = input[0] ?? 0;
    const header = input.subarray(1).toString('latin1');
    const parsed = onlyExtensionErrors('parseExtensionHeader', () => parseExtensionHeader(header));
    const model = readExtensionList(header);
    if (parsed instanceof WebSocketError) {
      check(model === null, () => `parseExtensionHeader refused ${JSON.stringify(header)}, which the model reads as ${JSON.stringify(model)}: ${parsed.message}`);
      return;
    }
    check(model !== null, () => `parseExtensionHeader read ${JSON.stringify(header)}, which RFC 6455 §9.1 refuses, as ${JSON.stringify(parsed)}`);
    check(isDeepStrictEqual(parsed.map((e) => ({ name: e.name, params: e.params.map(([n, v]) => [n, v]) })), model), () => `parseExtensionHeader read ${JSON.stringify(header)} as ${JSON.stringify(parsed)}, the model as ${JSON.stringify(model)}`);
    // Formatting what was read gives a header that reads the same.
    const formatted = parsed.map(formatExtension).join(', ');
    const again = onlyExtensionErrors('parseExtensionHeader (formatted)', () => parseExtensionHeader(formatted));
    check(isDeepStrictEqual(again, parsed), () => `formatExtension gave ${JSON.stringify(formatted)}, which reads differently`);

    const deflate = parsed.filter((element) => element.name === 'permessage-deflate');
    for (const element of deflate) {
      for (const side of ['offer', 'response'] as const) {
        const library = parseDeflateParams(element, side);
        const terms = readDeflateTerms(element.params, side);
        if (typeof library === 'string' || typeof terms === 'string') {
          check(typeof library === typeof terms, () => `parseDeflateParams (${side}) of ${formatExtension(element)}: ${JSON.stringify(library)}; the model: ${JSON.stringify(terms)}`);
        } else {
          check(isDeepStrictEqual(asTerms(library), terms), () => `parseDeflateParams (${side}) of ${formatExtension(element)}: ${JSON.stringify(library)}; the model: ${JSON.stringify(terms)}`);
        }
      }
    }
    if (deflate.length > 0) {
      checkServer(settings, deflate);
      checkClient(settings, deflate[0]!);
    }
  },
};
