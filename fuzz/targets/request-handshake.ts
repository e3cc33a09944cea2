/**
 * Target `request-handshake`: the server side of the opening handshake (RFC 6455 §4.2) as the
 * server runs it on bytes from a socket: findHeadEnd, parseRequestHead, validateUpgradeRequest,
 * then decideHandshake under a policy chosen by the input.
 *
 * Input: two settings bytes, then the bytes the client sends.
 *   byte 0, bit 0: paths {/chat}   1: origins {https://app.example}   2: protocols chat.v2, chat.v1
 *     3: permessage-deflate   4: an onHandshake hook (refuses, chooses, throws or accepts by the
 *     URL)   5: the server is closing   6: maxConnections 0   7: a handleProtocols chooser
 *   byte 1, bits 0-1: maxHeaderSize 16 KiB / 1024 / 128 / 64
 * Invariants: nothing is thrown but a HandshakeRejection, with a 4xx or 5xx status that the
 * step may give (and 426 names version 13); a refusal is a well-formed HTTP response; an
 * accepted request satisfies §4.2.1 read from its bytes by an independent reader, its
 * subprotocol was offered and chosen by the policy, its extension agreement is within an offer,
 * and its 101 response passes the client's checks (§4.1) with the right Sec-WebSocket-Accept.
 */
import { createHash } from 'node:crypto';
import {
  buildErrorResponse,
  buildUpgradeResponse,
  decideHandshake,
  findHeadEnd,
  type HandshakeDecision,
  type HandshakeOutcome,
  type HandshakePolicy,
  HandshakeRejection,
  type HandshakeRequest,
  type HttpRequestHead,
  parseDeflateParams,
  parseExtensionHeader,
  parseRequestHead,
  parseResponseHead,
  serverPerMessageDeflate,
  type UpgradeRequest,
  validateUpgradeRequest,
  validateUpgradeResponse,
} from '../../src/protocol/index.js';
import { listElements } from '../model/http-head-model.js';
import { readRequestHead, upgradeRequestProblem } from '../model/upgrade-request-model.js';
import { hashBytes } from '../random.js';
import { check, type FuzzTarget, InvariantViolation, textTokens } from '../target.js';

const MAX_HEADER_SIZES = [16 * 1024, 1024, 128, 64];
const SERVER_PROTOCOLS = ['chat.v2', 'chat.v1'];
const ALLOWED_ORIGIN = 'https://app.example';
const deflate = serverPerMessageDeflate();

/** The hook's answer, chosen by words in the URL. */
function hook(request: HandshakeRequest): HandshakeDecision {
  const url = request.url;
  if (url.includes('deny')) return { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } };
  if (url.includes('forbid')) return false;
  if (url.includes('throw')) throw new Error('the hook failed');
  if (url.includes('badstatus')) return { status: 302 };
  if (url.includes('pick')) return { protocol: request.protocols[request.protocols.length - 1] ?? 'none' };
  return { headers: { 'X-Fuzz': ['1', '2'] }, data: url.length };
}

function policyOf(settings: number): HandshakePolicy {
  return {
    paths: settings & 1 ? new Set(['/chat']) : null,
    origins: settings & 2 ? new Set([ALLOWED_ORIGIN]) : null,
    maxConnections: settings & 64 ? 0 : Number.POSITIVE_INFINITY,
    onHandshake: settings & 16 ? hook : undefined,
    protocols: settings & 4 ? SERVER_PROTOCOLS : undefined,
    handleProtocols: settings & 128 ? (offered) => offered[offered.length - 1] : undefined,
    extensions: settings & 8 ? [deflate] : [],
  };
}

/** A refusal must be one this step may give, and must make a well-formed response. */
function checkRejection(error: unknown, step: string, statuses: readonly number[]): void {
  if (!(error instanceof HandshakeRejection)) {
    throw new InvariantViolation(`${step} threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}, not a HandshakeRejection`);
  }
  check(statuses.includes(error.status), () => `${step} refused with ${error.status} (${error.reason}); it may give ${statuses.join(', ')}`);
  if (error.status === 426) {
    // RFC 6455 §4.4: the versions the server speaks.
    check(error.headers['Sec-WebSocket-Version'] === '13', `${step}: a 426 without Sec-WebSocket-Version: 13`);
  }
  const response = Buffer.from(buildErrorResponse(error.status, error.reason, error.headers), 'utf8');
  const end = findHeadEnd(response, response.length);
  check(end > 0, `${step}: the refusal has no end of head`);
  const head = parseResponseHead(response.subarray(0, end));
  check(head.status === error.status, `${step}: the refusal's status line says ${head.status}`);
  // Connection: close, whatever else the refusal lists there (a 426 adds Upgrade, RFC 9110 §7.8).
  check(listElements([head.headers['connection'] ?? '']).some((e) => e.toLowerCase() === 'close'), `${step}: the refusal does not close the connection`);
  const body = response.subarray(end);
  check(head.headers['content-length'] === String(body.length), `${step}: Content-Length ${head.headers['content-length']} for ${body.length} bytes`);
}

function handshakeRequest(head: HttpRequestHead, upgrade: UpgradeRequest): HandshakeRequest {
  const query = head.target.indexOf('?');
  return {
    transport: 'http/1.1',
    method: head.method,
    url: head.target,
    path: query === -1 ? head.target : head.target.slice(0, query),
    query: new URLSearchParams(query === -1 ? '' : head.target.slice(query + 1)),
    headers: head.headers,
    origin: head.headers['origin'],
    remoteAddress: '127.0.0.1',
    protocols: upgrade.protocols,
    extensions: upgrade.extensions,
  };
}

function checkAcceptance(headBytes: Buffer, upgrade: UpgradeRequest, policy: HandshakePolicy, settings: number, outcome: HandshakeOutcome): void {
  if (!outcome.accepted) return;
  try {
    const read = readRequestHead(headBytes);
    if (typeof read === 'string') throw new InvariantViolation(`accepted a malformed head: ${read}`);
    const problem = upgradeRequestProblem(read);
    check(problem === null, () => `accepted a request that RFC 6455 §4.2.1 refuses: ${problem}`);
    // The policy was applied.
    const path = read.target.split('?')[0]!;
    check(policy.paths === null || policy.paths.has(path), () => `accepted path ${path}`);
    const origins = read.fields.get('origin');
    check(policy.origins === null || origins === undefined || origins.join(', ').toLowerCase() === ALLOWED_ORIGIN, 'accepted a disallowed origin');
    check(!(settings & 32) && !(settings & 64), 'accepted while closing or over maxConnections');
    check(policy.onHandshake === undefined || !/deny|forbid|throw|badstatus/.test(read.target), 'accepted what the hook refused');
    // The subprotocol (§4.2.2): one the client offered, chosen by the policy.
    const offered = listElements(read.fields.get('sec-websocket-protocol'));
    if (outcome.protocol !== undefined) {
      check(offered.includes(outcome.protocol), () => `selected subprotocol ${outcome.protocol} was not offered (${offered.join(', ')})`);
    } else {
      check(policy.protocols === undefined || policy.handleProtocols !== undefined || !SERVER_PROTOCOLS.some((p) => offered.includes(p)), 'a common subprotocol was not selected');
    }
    // The extension: within one of the offers (RFC 7692 §7.1).
    if (outcome.extensionHeader !== undefined) {
      check(outcome.extension !== null && policy.extensions.length > 0, 'an extension header without a negotiated extension');
      const agreed = parseExtensionHeader(outcome.extensionHeader);
      check(agreed.length === 1 && agreed[0]!.name === 'permessage-deflate', () => `agreed ${outcome.extensionHeader}`);
      const terms = parseDeflateParams(agreed[0]!, 'response');
      check(typeof terms !== 'string', () => `the agreement ${outcome.extensionHeader} is not a valid response: ${String(terms)}`);
      const fits = upgrade.extensions.some((offer) => {
        if (offer.name !== 'permessage-deflate') return false;
        const asked = parseDeflateParams(offer, 'offer');
        if (typeof asked === 'string') return false;
        if (asked.serverNoContextTakeover && !terms.serverNoContextTakeover) return false;
        if (asked.serverMaxWindowBits !== undefined && (terms.serverMaxWindowBits ?? 15) > asked.serverMaxWindowBits) return false;
        if (terms.clientMaxWindowBits !== undefined && asked.clientMaxWindowBits === undefined) return false;
        const clientBits = typeof terms.clientMaxWindowBits === 'number' ? terms.clientMaxWindowBits : 15;
        if (typeof asked.clientMaxWindowBits === 'number' && clientBits > asked.clientMaxWindowBits) return false;
        return true;
      });
      check(fits, () => `the agreement ${outcome.extensionHeader} fits none of the offers`);
    } else {
      check(outcome.extension === null, 'an extension without its header');
    }
    // The 101 as written, read back by the client side (§4.1) with an independent accept key.
    const response = Buffer.from(buildUpgradeResponse(upgrade.key, outcome.protocol, outcome.extensionHeader, outcome.headers), 'latin1');
    const end = findHeadEnd(response, response.length);
    check(end === response.length, 'the 101 response is not exactly one head');
    const head = parseResponseHead(response);
    const accepted = validateUpgradeResponse(head, upgrade.key, offered);
    const expectedAccept = createHash('sha1').update(`${upgrade.key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    check(head.headers['sec-websocket-accept'] === expectedAccept, 'Sec-WebSocket-Accept is not base64(SHA-1(key + GUID))');
    check(accepted.protocol === outcome.protocol, 'the client reads another subprotocol');
  } finally {
    outcome.extension?.dispose();
  }
}

/** Run one `request-handshake` input and check every invariant (throws an InvariantViolation when one breaks). */
export function runRequestInput(input: Buffer): void {
  const settings = input[0] ?? 0;
  const maxHeaderSize = MAX_HEADER_SIZES[(input[1] ?? 0) & 3]!;
  const data = input.subarray(2);

  let end: number;
  try {
    end = findHeadEnd(data, maxHeaderSize);
  } catch (error) {
    checkRejection(error, 'findHeadEnd', [431]);
    return;
  }
  // The head arrives in pieces: no shorter prefix may look complete.
  if (end > 0) {
    const cut = hashBytes(input) % end;
    check(findHeadEnd(data.subarray(0, cut), maxHeaderSize) === -1, () => `findHeadEnd found an end in the first ${cut} of ${end} bytes`);
  }
  if (end === -1) return; // waits for more

  const headBytes = data.subarray(0, end);
  let head: HttpRequestHead;
  try {
    head = parseRequestHead(headBytes);
  } catch (error) {
    checkRejection(error, 'parseRequestHead', [400]);
    return;
  }
  let upgrade: UpgradeRequest;
  try {
    upgrade = validateUpgradeRequest(head);
  } catch (error) {
    checkRejection(error, 'validateUpgradeRequest', [400, 426]);
    return;
  }
  const policy = policyOf(settings);
  const request = handshakeRequest(head, upgrade);
  let outcome: HandshakeOutcome | Promise<HandshakeOutcome>;
  try {
    outcome = decideHandshake(request, policy, { connections: 1, closing: (settings & 32) !== 0 });
  } catch (error) {
    throw new InvariantViolation(`decideHandshake threw ${(error as Error).stack ?? String(error)}`);
  }
  check(!(outcome instanceof Promise), 'decideHandshake returned a promise for a synchronous hook');
  if (!outcome.accepted) {
    checkRejection(outcome, 'decideHandshake', [400, 401, 403, 404, 500, 503]);
    if (outcome.status === 500) check(outcome.failure !== undefined, 'a 500 without its failure');
    return;
  }
  checkAcceptance(headBytes, upgrade, policy, settings, outcome);
}

export const fuzzTarget: FuzzTarget = {
  name: 'request-handshake',
  description: 'findHeadEnd, parseRequestHead, validateUpgradeRequest and decideHandshake on client bytes',
  maxLength: 4096,
  dictionary: textTokens(
    'GET /chat HTTP/1.1\r\n',
    ' HTTP/1.1\r\n',
    '\r\n',
    '\r\n\r\n',
    'Host: a\r\n',
    'Upgrade: websocket\r\n',
    'Connection: Upgrade\r\n',
    'Connection: keep-alive, Upgrade\r\n',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n',
    'Sec-WebSocket-Version: 13\r\n',
    'Sec-WebSocket-Protocol: chat.v1, chat.v2\r\n',
    'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n',
    'Origin: https://app.example\r\n',
    '; server_no_context_takeover',
    '; client_no_context_takeover',
    '; server_max_window_bits=10',
    '; client_max_window_bits=8',
    '="12"',
    ', ',
    '?deny',
    '?pick',
    '?throw',
    '?badstatus',
    '?forbid',
    ' \t',
    'HTTP/1.0',
    'HTTP/2.0',
  ),
  run: runRequestInput,
};
