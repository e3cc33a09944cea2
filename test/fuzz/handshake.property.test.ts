/**
 * Properties of the opening handshake over valid requests (fast-check): header names in any
 * case, in any order, with optional whitespace, extra fields, any token subprotocols and any
 * valid permessage-deflate offers. The server must accept (RFC 6455 §4.2.1), choose as its
 * policy says, and write a 101 the client accepts (§4.1); the request-handshake fuzz target
 * (independent checks) must hold on the same bytes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  buildUpgradeResponse,
  decideHandshake,
  formatExtension,
  type HandshakeAcceptance,
  parseRequestHead,
  parseResponseHead,
  serverPerMessageDeflate,
  validateUpgradeRequest,
  validateUpgradeResponse,
} from '../../src/protocol/index.js';
import { runRequestInput } from '../../fuzz/targets/request-handshake.js';
import { guardProcess } from '../helpers/process-guard.js';

guardProcess();

const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,10}$/);
const anyCase = (name: string): fc.Arbitrary<string> =>
  fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }).map((upper) => [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase())).join(''));
const ows = fc.constantFrom('', ' ', '\t', ' \t ');
const windowBits = fc.integer({ min: 8, max: 15 });

/** One permessage-deflate offer with valid parameters (RFC 7692 §7.1), in any order. */
const deflateOffer = fc
  .record({
    serverNoContextTakeover: fc.boolean(),
    clientNoContextTakeover: fc.boolean(),
    serverMaxWindowBits: fc.option(windowBits),
    clientMaxWindowBits: fc.option(fc.oneof(fc.constant<true>(true), windowBits)),
    quote: fc.boolean(),
  })
  .chain((o) => {
    const params: string[] = [];
    if (o.serverNoContextTakeover) params.push('server_no_context_takeover');
    if (o.clientNoContextTakeover) params.push('client_no_context_takeover');
    if (o.serverMaxWindowBits !== null) params.push(`server_max_window_bits=${o.quote ? `"${o.serverMaxWindowBits}"` : o.serverMaxWindowBits}`);
    if (o.clientMaxWindowBits !== null) params.push(o.clientMaxWindowBits === true ? 'client_max_window_bits' : `client_max_window_bits=${o.clientMaxWindowBits}`);
    return fc.shuffledSubarray(params, { minLength: params.length }).map((shuffled) => ['permessage-deflate', ...shuffled].join('; '));
  });

const request = fc.record({
  names: fc.record({
    host: anyCase('Host'),
    upgrade: anyCase('Upgrade'),
    connection: anyCase('Connection'),
    key: anyCase('Sec-WebSocket-Key'),
    version: anyCase('Sec-WebSocket-Version'),
    protocol: anyCase('Sec-WebSocket-Protocol'),
    extensions: anyCase('Sec-WebSocket-Extensions'),
  }),
  upgrade: fc.constantFrom('websocket', 'WebSocket', 'h2c, websocket'),
  connection: fc.constantFrom('Upgrade', 'upgrade', 'keep-alive, Upgrade', 'Upgrade ,keep-alive'),
  protocols: fc.uniqueArray(token, { maxLength: 4 }),
  offers: fc.array(deflateOffer, { maxLength: 3 }),
  extra: fc.array(fc.tuple(token.map((t) => `X-${t}`), token), { maxLength: 4 }),
  spaces: fc.array(ows, { minLength: 16, maxLength: 16 }),
  query: fc.option(token),
  order: fc.integer({ min: 0, max: 1_000_000 }),
});

describe('valid opening handshakes (fast-check)', () => {
  test('RFC 6455 §4.2.1-§4.2.2: any valid request is accepted, with the subprotocol and extension the policy chooses, and its 101 passes §4.1', () => {
    const serverProtocols = ['chat', 'b', 'x-1'];
    const deflate = serverPerMessageDeflate({ serverNoContextTakeover: false, clientNoContextTakeover: false });
    fc.assert(
      fc.property(request, (r) => {
        const key = randomBytes(16).toString('base64');
        const s = (i: number): string => r.spaces[i]!;
        const lines = [
          `${r.names.host}:${s(0)}example.com:8080${s(1)}`,
          `${r.names.upgrade}:${s(2)}${r.upgrade}${s(3)}`,
          `${r.names.connection}:${s(4)}${r.connection}${s(5)}`,
          `${r.names.key}:${s(6)}${key}${s(7)}`,
          `${r.names.version}:${s(8)}13${s(9)}`,
          ...r.extra.map(([name, value], i) => `${name}-${i}:${s(10)}${value}`),
        ];
        if (r.protocols.length > 0) lines.push(`${r.names.protocol}:${s(11)}${r.protocols.join(`${s(12)},${s(13)}`)}`);
        if (r.offers.length > 0) lines.push(`${r.names.extensions}:${s(14)}${r.offers.join(', ')}${s(15)}`);
        // A deterministic shuffle of the header lines (their order is free, RFC 9110 §5.3).
        const shuffled = lines.map((line, i) => ({ line, rank: (i * 7919 + r.order) % 1009 })).sort((a, b) => a.rank - b.rank).map((x) => x.line);
        const text = `GET /chat${r.query === null ? '' : `?${r.query}`} HTTP/1.1\r\n${shuffled.join('\r\n')}\r\n\r\n`;
        const bytes = Buffer.from(text, 'latin1');

        const upgrade = validateUpgradeRequest(parseRequestHead(bytes));
        assert.equal(upgrade.key, key);
        assert.deepEqual(upgrade.protocols, r.protocols);
        assert.equal(upgrade.extensions.length, r.offers.length);
        const outcome = decideHandshake(
          {
            transport: 'http/1.1',
            method: 'GET',
            url: '/chat',
            path: '/chat',
            query: new URLSearchParams(),
            headers: {},
            origin: undefined,
            remoteAddress: undefined,
            protocols: upgrade.protocols,
            extensions: upgrade.extensions,
          },
          { paths: new Set(['/chat']), origins: null, maxConnections: 10, onHandshake: undefined, protocols: serverProtocols, handleProtocols: undefined, extensions: [deflate] },
          { connections: 1, closing: false },
        ) as HandshakeAcceptance;
        assert.equal(outcome.accepted, true);
        try {
          assert.equal(outcome.protocol, serverProtocols.find((p) => r.protocols.includes(p)));
          // Every generated offer is valid: the first is taken.
          assert.equal(outcome.extension !== null, r.offers.length > 0);
          if (outcome.extension !== null) assert.equal(outcome.extensionHeader, formatExtension(outcome.extension.agreed));
          const response = parseResponseHead(Buffer.from(buildUpgradeResponse(key, outcome.protocol, outcome.extensionHeader), 'latin1'));
          assert.equal(validateUpgradeResponse(response, key, r.protocols).protocol, outcome.protocol);
        } finally {
          outcome.extension?.dispose();
        }
        // The target's independent checks, under every policy it knows.
        for (const settings of [0x00, 0x0f, 0x9c, 0x18]) runRequestInput(Buffer.concat([Buffer.from([settings, 0]), bytes]));
      }),
      { numRuns: 300 },
    );
  });
});
