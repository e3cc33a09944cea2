/**
 * Target `response-handshake`: the client side of the opening handshake (RFC 6455 §4.1) as
 * connect() runs it on the server's bytes: findHeadEnd, parseResponseHead, then
 * checkHandshakeResponse against what createClientHandshake offered.
 *
 * Input: a settings byte, then the bytes the server sends; every "@ACCEPT@" in them becomes the
 * right Sec-WebSocket-Accept for this handshake's key (a mutation cannot guess a SHA-1).
 *   bits 0-1: subprotocols offered: none / chat / a, b / chat, b
 *   bit 2: offer permessage-deflate, with the client options of bits 3-5 (CLIENT_DEFLATE)
 *   bits 6-7: maxHeaderSize 16 KiB / 1024 / 128 / 64
 * Invariants: only a HandshakeRejection (431) from findHeadEnd and WebSocketErrors with a
 * WSF_ERR_HANDSHAKE_* code after it; an accepted response satisfies §4.1 read from its bytes by
 * an independent reader, its subprotocol was offered (once), and its permessage-deflate
 * agreement is a valid response (RFC 7692 §7.1) that grants what was asked.
 */
import { createHash } from 'node:crypto';
import {
  checkHandshakeResponse,
  type ClientHandshakeResult,
  clientPerMessageDeflate,
  createClientHandshake,
  findHeadEnd,
  HandshakeRejection,
  type HttpResponseHead,
  parseResponseHead,
  WebSocketError,
} from '../../src/protocol/index.js';
import { agreementProblem, readDeflateTerms } from '../model/deflate-params-model.js';
import { listElements } from '../model/http-head-model.js';
import { acceptedResponseProblem } from '../model/upgrade-response-model.js';
import { check, type FuzzTarget, InvariantViolation, textTokens } from '../target.js';
import { CLIENT_DEFLATE, clientOffer } from './deflate-settings.js';

const PROTOCOLS: readonly (readonly string[])[] = [[], ['chat'], ['a', 'b'], ['chat', 'b']];
const MAX_HEADER_SIZES = [16 * 1024, 1024, 128, 64];
const ACCEPT_MARK = Buffer.from('@ACCEPT@', 'latin1');

function withAccept(bytes: Buffer, accept: string): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (let at = bytes.indexOf(ACCEPT_MARK); at !== -1; at = bytes.indexOf(ACCEPT_MARK, from)) {
    parts.push(bytes.subarray(from, at), Buffer.from(accept, 'latin1'));
    from = at + ACCEPT_MARK.length;
  }
  parts.push(bytes.subarray(from));
  return Buffer.concat(parts);
}

function expectHandshakeError(error: unknown, step: string, codes: (code: string) => boolean): void {
  if (!(error instanceof WebSocketError) || !codes(error.code)) {
    throw new InvariantViolation(`${step} threw ${error instanceof WebSocketError ? error.code : error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }
}

export const fuzzTarget: FuzzTarget = {
  name: 'response-handshake',
  description: 'findHeadEnd, parseResponseHead and checkHandshakeResponse on server bytes',
  maxLength: 4096,
  dictionary: textTokens(
    'HTTP/1.1 101 Switching Protocols\r\n',
    'Upgrade: websocket\r\n',
    'Connection: Upgrade\r\n',
    'Sec-WebSocket-Accept: @ACCEPT@\r\n',
    '@ACCEPT@',
    'Sec-WebSocket-Protocol: chat\r\n',
    'Sec-WebSocket-Extensions: permessage-deflate\r\n',
    'permessage-deflate',
    '; server_no_context_takeover',
    '; client_no_context_takeover',
    '; server_max_window_bits=10',
    '; client_max_window_bits=8',
    '; client_max_window_bits',
    '=015',
    '="9"',
    ', ',
    '\r\n',
    '\r\n\r\n',
    'HTTP/1.1 401 Unauthorized\r\n',
    'Transfer-Encoding: chunked\r\n',
  ),
  run(input) {
    const settings = input[0] ?? 0;
    const protocols = PROTOCOLS[settings & 3]!;
    const deflateOptions = settings & 4 ? CLIENT_DEFLATE[(settings >> 3) & 7]! : null;
    const maxHeaderSize = MAX_HEADER_SIZES[settings >> 6]!;
    const handshake = createClientHandshake({ protocols, extensions: deflateOptions === null ? [] : [clientPerMessageDeflate(deflateOptions)] });
    const accept = createHash('sha1').update(`${handshake.key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    const data = withAccept(input.subarray(1), accept);

    let end: number;
    try {
      end = findHeadEnd(data, maxHeaderSize);
    } catch (error) {
      check(error instanceof HandshakeRejection && error.status === 431, () => `findHeadEnd threw ${String(error)}`);
      return;
    }
    if (end === -1) return;
    const head = data.subarray(0, end);
    let response: HttpResponseHead;
    try {
      response = parseResponseHead(head);
    } catch (error) {
      expectHandshakeError(error, 'parseResponseHead', (code) => code === 'WSF_ERR_HANDSHAKE_INVALID_RESPONSE');
      return;
    }
    let result: ClientHandshakeResult;
    try {
      result = checkHandshakeResponse(handshake, response, data.subarray(end).toString('utf8'));
    } catch (error) {
      expectHandshakeError(error, 'checkHandshakeResponse', (code) => code.startsWith('WSF_ERR_HANDSHAKE_'));
      return;
    }
    try {
      const { problem, fields } = acceptedResponseProblem(head, handshake.key);
      check(problem === null, () => `accepted a response that RFC 6455 §4.1 refuses: ${problem}`);
      // §4.1 (6): a subprotocol the client offered, or none.
      const selected = fields!.get('sec-websocket-protocol');
      if (selected === undefined) check(result.protocol === undefined, 'a subprotocol without its header');
      else check(selected.length === 1 && protocols.includes(selected[0]!) && result.protocol === selected[0], () => `accepted subprotocol ${selected.join(' | ')}`);
      // §4.1 (5), §9.1: only extensions offered, each once; RFC 7692 §7.1: a valid response granting what was asked.
      const extensions = listElements(fields!.get('sec-websocket-extensions'));
      if (result.extension === null) {
        check(extensions.length === 0, () => `extensions ${extensions.join(', ')} in an accepted response without an agreement`);
        return;
      }
      check(deflateOptions !== null, 'an extension accepted that was not offered');
      const agreed = result.extension.agreed;
      check(agreed.name === 'permessage-deflate' && extensions.length === 1, () => `agreed ${agreed.name} from ${extensions.join(', ')}`);
      const terms = readDeflateTerms(agreed.params, 'response');
      if (typeof terms === 'string') throw new InvariantViolation(`accepted an invalid permessage-deflate response: ${terms}`);
      const problemWithOffer = agreementProblem(clientOffer(deflateOptions!), terms);
      check(problemWithOffer === null, () => `accepted an agreement outside the offer: ${problemWithOffer}`);
    } finally {
      result.extension?.dispose();
    }
  },
};
