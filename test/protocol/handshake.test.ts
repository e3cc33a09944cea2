/** Handshake functions (RFC 6455 §4), without sockets. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildClientRequest, buildErrorResponse, buildUpgradeResponse, computeAcceptKey, findHeadEnd, generateKey, HandshakeRejection, headerHasToken, parseExtensionHeader, parseRequestHead, parseResponseHead, validateUpgradeRequest, validateUpgradeResponse } from '../../src/protocol/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { acceptFor, upgradeRequest, type UpgradeRequestOptions } from '../helpers/raw-peer.js';

guardProcess();

function rejection(options: UpgradeRequestOptions | string): HandshakeRejection {
  const text = typeof options === 'string' ? options : upgradeRequest(options);
  try {
    validateUpgradeRequest(parseRequestHead(Buffer.from(text, 'latin1')));
  } catch (error) {
    assert.ok(error instanceof HandshakeRejection, `expected a HandshakeRejection, got ${String(error)}`);
    return error;
  }
  assert.fail(`request was accepted: ${JSON.stringify(text)}`);
}

describe('accept key (RFC 6455 §1.3, §4.2.2)', () => {
  test('RFC 6455 §1.3: key "dGhlIHNhbXBsZSBub25jZQ==" gives accept "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="', () => {
    assert.equal(computeAcceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  test('RFC 6455 §4.1: generateKey gives base64 of 16 random bytes, different each time', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const key = generateKey();
      assert.equal(Buffer.from(key, 'base64').length, 16);
      assert.match(key, /^[A-Za-z0-9+/]{22}==$/);
      keys.add(key);
    }
    assert.equal(keys.size, 100);
  });

  test('RFC 6455 §4.2.2: buildUpgradeResponse is a 101 with Upgrade, Connection, the accept, and the chosen protocol', () => {
    const response = buildUpgradeResponse('dGhlIHNhbXBsZSBub25jZQ==', 'chat', undefined, { 'X-Extra': 'yes' });
    assert.equal(
      response,
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\nX-Extra: yes\r\n\r\n',
    );
  });
});

describe('server-side request validation (RFC 6455 §4.2.1)', () => {
  test('RFC 6455 §4.2.1: a well-formed request passes and yields the key, protocols and extensions', () => {
    const request = upgradeRequest({
      path: '/chat?x=1',
      extra: ['Sec-WebSocket-Protocol: chat, superchat', 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-foo'],
    });
    const head = parseRequestHead(Buffer.from(request));
    assert.equal(head.method, 'GET');
    assert.equal(head.target, '/chat?x=1');
    assert.equal(head.httpVersion, '1.1');
    const result = validateUpgradeRequest(head);
    assert.equal(result.key, 'dGhlIHNhbXBsZSBub25jZQ==');
    assert.deepEqual(result.protocols, ['chat', 'superchat']);
    assert.deepEqual(result.extensions, [
      { name: 'permessage-deflate', params: [['client_max_window_bits', true]] },
      { name: 'x-foo', params: [] },
    ]);
  });

  test('RFC 6455 §4.2.1: Upgrade and Connection are token lists, case-insensitive', () => {
    const head = parseRequestHead(Buffer.from(upgradeRequest({ upgrade: 'foo, WebSocket', connection: 'keep-alive, Upgrade' })));
    assert.equal(validateUpgradeRequest(head).key, 'dGhlIHNhbXBsZSBub25jZQ==');
    const head2 = parseRequestHead(Buffer.from(upgradeRequest({ upgrade: 'WEBSOCKET', connection: 'UPGRADE' })));
    assert.equal(validateUpgradeRequest(head2).key, 'dGhlIHNhbXBsZSBub25jZQ==');
  });

  const badRequests: Array<[string, UpgradeRequestOptions | string, number]> = [
    ['method POST', { method: 'POST' }, 400],
    ['HTTP/1.0', { httpVersion: '1.0' }, 400],
    ['missing Host', { host: null }, 400],
    ['empty Host', { host: '' }, 400],
    ['duplicated Host', { extra: ['Host: other.example'] }, 400],
    ['no Upgrade header', { upgrade: null }, 426],
    ['Upgrade without "websocket"', { upgrade: 'h2c' }, 400],
    ['Upgrade "websockets" (not the token)', { upgrade: 'websockets' }, 400],
    ['Connection without "upgrade"', { connection: 'keep-alive' }, 400],
    ['missing Connection', { connection: null }, 400],
    ['missing Sec-WebSocket-Key', { key: null }, 400],
    ['duplicated Sec-WebSocket-Key', { extra: ['Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA=='] }, 400],
    ['Sec-WebSocket-Key of 15 bytes', { key: Buffer.alloc(15).toString('base64') }, 400],
    ['Sec-WebSocket-Key of 17 bytes', { key: Buffer.alloc(17).toString('base64') }, 400],
    ['Sec-WebSocket-Key not base64', { key: '!!!!!!!!!!!!!!!!!!!!!!==' }, 400],
    ['missing Sec-WebSocket-Version', { version: null }, 426],
    ['Sec-WebSocket-Version 8', { version: '8' }, 426],
    ['Sec-WebSocket-Version 14', { version: '14' }, 426],
    ['malformed subprotocol list', { extra: ['Sec-WebSocket-Protocol: chat, , bad proto'] }, 400],
    ['subprotocol with a separator', { extra: ['Sec-WebSocket-Protocol: a/b'] }, 400],
    ['duplicated subprotocol', { extra: ['Sec-WebSocket-Protocol: chat, chat'] }, 400],
    ['malformed extensions', { extra: ['Sec-WebSocket-Extensions: permessage-deflate; ='] }, 400],
    ['extensions with an unterminated quote', { extra: ['Sec-WebSocket-Extensions: foo; a="b'] }, 400],
    ['bare LF line endings', 'GET / HTTP/1.1\nHost: a\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\r\n\r\n', 400],
    ['folded header', { extra: ['X-Folded: a', ' continued'] }, 400],
    ['whitespace before the colon', { extra: ['X-Space : a'] }, 400],
    ['malformed request line', 'GET  /  HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    // Fuzz finding (request-handshake): byte 0xA0 (U+00A0 in a latin1 head) is not OWS (RFC 9110 §5.6.3: spaces and tabs).
    ['Connection "\\xa0Upgrade" (a no-break space is not OWS)', { connection: '\u00a0Upgrade' }, 400],
    ['Upgrade "websocket\\xa0"', { upgrade: 'websocket\u00a0' }, 400],
    ['subprotocol "chat\\xa0"', { extra: ['Sec-WebSocket-Protocol: chat\u00a0'] }, 400],
  ];
  for (const [name, request, status] of badRequests) {
    test(`RFC 6455 §4.2.1 (decision): ${name} → ${status}`, () => {
      assert.equal(rejection(request).status, status);
    });
  }

  test('RFC 6455 §4.2.2: a missing or wrong version gets 426 with Sec-WebSocket-Version: 13', () => {
    assert.equal(rejection({ version: '8' }).headers['Sec-WebSocket-Version'], '13');
    assert.equal(rejection({ version: null }).headers['Sec-WebSocket-Version'], '13');
  });

  test('RFC 9110 §15.5.22: a request without Upgrade gets 426 with Upgrade: websocket and Sec-WebSocket-Version: 13', () => {
    const r = rejection({ upgrade: null });
    assert.equal(r.headers['Upgrade'], 'websocket');
    assert.equal(r.headers['Sec-WebSocket-Version'], '13');
  });

  test('decision: a head over maxHeaderSize is refused with 431, complete or not', () => {
    const big = Buffer.from(upgradeRequest({ extra: [`X-Big: ${'a'.repeat(20_000)}`] }));
    assert.throws(() => findHeadEnd(big, 16 * 1024), (e: unknown) => e instanceof HandshakeRejection && e.status === 431);
    const incomplete = Buffer.alloc(16 * 1024 + 1, 0x61);
    assert.throws(() => findHeadEnd(incomplete, 16 * 1024), (e: unknown) => e instanceof HandshakeRejection && e.status === 431);
    const small = Buffer.from(upgradeRequest());
    assert.equal(findHeadEnd(small, 16 * 1024), small.length);
    assert.equal(findHeadEnd(small.subarray(0, small.length - 1), 16 * 1024), -1);
  });

  test('RFC 6455 §4.2.1: a head from another HTTP parser (no header counts, a version like "2") is checked the same way', () => {
    const headers = { host: 'a', upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' };
    const head = (httpVersion: string) => ({ method: 'GET', target: '/', httpVersion, headers, headerCounts: {} });
    assert.equal(validateUpgradeRequest(head('2')).key, 'dGhlIHNhbXBsZSBub25jZQ==', 'HTTP/2 and later are "HTTP/1.1 or higher"');
    assert.equal(validateUpgradeRequest(head('1.1')).key, 'dGhlIHNhbXBsZSBub25jZQ==');
    for (const version of ['1', '1.0', '0.9', '']) {
      assert.throws(() => validateUpgradeRequest(head(version)), (e: unknown) => e instanceof HandshakeRejection && e.status === 400, `HTTP/${version}`);
    }
  });

  test('RFC 6455 §4.2.2: buildUpgradeResponse writes no Sec-WebSocket-Extensions for an empty or absent agreement', () => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    assert.equal(buildUpgradeResponse(key, undefined, ''), buildUpgradeResponse(key));
    assert.doesNotMatch(buildUpgradeResponse(key, undefined, ''), /Sec-WebSocket-Extensions/);
    assert.match(buildUpgradeResponse(key, undefined, 'permessage-deflate'), /\r\nSec-WebSocket-Extensions: permessage-deflate\r\n/);
  });

  test('RFC 9110 §5.3: repeated headers are joined, names are case-insensitive', () => {
    const head = parseRequestHead(Buffer.from(upgradeRequest({ extra: ['x-a: 1', 'X-A: 2'] })));
    assert.equal(head.headers['x-a'], '1, 2');
    assert.equal(head.headerCounts['x-a'], 2);
  });
});

describe('error responses (decision)', () => {
  test('decision: error responses are "HTTP/1.1 <status> <text>", Connection: close, a text/plain body', () => {
    const response = buildErrorResponse(403, 'origin not allowed', { 'X-Why': 'test' });
    const [head, body] = response.split('\r\n\r\n') as [string, string];
    const lines = head.split('\r\n');
    assert.equal(lines[0], 'HTTP/1.1 403 Forbidden');
    assert.ok(lines.includes('Connection: close'));
    assert.ok(lines.some((l) => /^Content-Type: text\/plain/i.test(l)));
    assert.ok(lines.includes(`Content-Length: ${Buffer.byteLength(body)}`));
    assert.ok(lines.includes('X-Why: test'));
    assert.equal(body, 'origin not allowed\n');
  });

  test('RFC 9112 §2.2: header values with CR or LF are refused (no response splitting)', () => {
    assert.throws(() => buildErrorResponse(401, 'x', { 'WWW-Authenticate': 'Bearer\r\nSet-Cookie: a=b' }), { code: 'WSF_ERR_INVALID_ARGUMENT' });
    assert.throws(() => buildUpgradeResponse('dGhlIHNhbXBsZSBub25jZQ==', undefined, undefined, { 'Bad Name': 'x' }), { code: 'WSF_ERR_INVALID_ARGUMENT' });
  });
});

describe('client side (RFC 6455 §4.1)', () => {
  test('RFC 6455 §4.1: buildClientRequest writes GET, Host, Upgrade, Connection, key, version 13 and the protocols', () => {
    const request = buildClientRequest({ host: 'example.com:8080', path: '/chat?x=1', key: 'dGhlIHNhbXBsZSBub25jZQ==', protocols: ['a', 'b'], headers: { Authorization: 'x' } });
    assert.equal(
      request,
      'GET /chat?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a, b\r\nAuthorization: x\r\n\r\n',
    );
    assert.throws(() => buildClientRequest({ host: 'h', path: '/', key: 'k', protocols: ['a b'] }), { code: 'WSF_ERR_INVALID_ARGUMENT' });
    assert.throws(() => buildClientRequest({ host: 'h', path: '/', key: 'k', protocols: ['a', 'a'] }), { code: 'WSF_ERR_INVALID_ARGUMENT' });
  });

  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  const good = (extra: string[] = [], overrides: { status?: string; upgrade?: string; connection?: string; accept?: string } = {}) =>
    parseResponseHead(
      Buffer.from(
        [
          overrides.status ?? 'HTTP/1.1 101 Switching Protocols',
          `Upgrade: ${overrides.upgrade ?? 'websocket'}`,
          `Connection: ${overrides.connection ?? 'Upgrade'}`,
          `Sec-WebSocket-Accept: ${overrides.accept ?? acceptFor(key)}`,
          ...extra,
        ].join('\r\n') + '\r\n\r\n',
      ),
    );

  test('RFC 6455 §4.1: a correct 101 is accepted, with the selected protocol', () => {
    assert.deepEqual(validateUpgradeResponse(good(['Sec-WebSocket-Protocol: b']), key, ['a', 'b']), { protocol: 'b', extensions: [] });
    assert.deepEqual(validateUpgradeResponse(good([], { upgrade: 'WebSocket', connection: 'keep-alive, upgrade' }), key, []), { protocol: undefined, extensions: [] });
  });

  const badResponses: Array<[string, ReturnType<typeof good>, string[], string]> = [
    ['status 200', good([], { status: 'HTTP/1.1 200 OK' }), [], 'WSF_ERR_HANDSHAKE_STATUS'],
    ['wrong accept', good([], { accept: acceptFor('AQIDBAUGBwgJCgsMDQ4PEA==') }), [], 'WSF_ERR_HANDSHAKE_ACCEPT'],
    ['duplicated accept', good([`Sec-WebSocket-Accept: ${acceptFor(key)}`]), [], 'WSF_ERR_HANDSHAKE_ACCEPT'],
    ['Upgrade: h2c', good([], { upgrade: 'h2c' }), [], 'WSF_ERR_HANDSHAKE_UPGRADE'],
    ['Connection: close', good([], { connection: 'close' }), [], 'WSF_ERR_HANDSHAKE_UPGRADE'],
    ['a subprotocol not offered', good(['Sec-WebSocket-Protocol: c']), ['a', 'b'], 'WSF_ERR_HANDSHAKE_SUBPROTOCOL'],
    ['a subprotocol when none offered', good(['Sec-WebSocket-Protocol: a']), [], 'WSF_ERR_HANDSHAKE_SUBPROTOCOL'],
    ['malformed extensions', good(['Sec-WebSocket-Extensions: ;;']), [], 'WSF_ERR_HANDSHAKE_EXTENSION'],
  ];
  for (const [name, response, offered, code] of badResponses) {
    test(`RFC 6455 §4.1: a response with ${name} fails with ${code}`, () => {
      assert.throws(() => validateUpgradeResponse(response, key, offered, 'body text'), { code });
    });
  }

  test('decision: WSF_ERR_HANDSHAKE_STATUS names the status line and quotes the body', () => {
    const response = good([], { status: 'HTTP/1.1 403 Forbidden' });
    assert.throws(() => validateUpgradeResponse(response, key, [], 'origin not allowed\n'), (error: Error) => {
      assert.match(error.message, /HTTP\/1\.1 403 Forbidden/);
      assert.match(error.message, /origin not allowed/);
      return true;
    });
  });

  test('RFC 9112 §4: a malformed status line fails with WSF_ERR_HANDSHAKE_INVALID_RESPONSE', () => {
    assert.throws(() => parseResponseHead(Buffer.from('HTTP/1.1 1O1 Switching\r\n\r\n')), { code: 'WSF_ERR_HANDSHAKE_INVALID_RESPONSE' });
    assert.throws(() => parseResponseHead(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n')), { code: 'WSF_ERR_HANDSHAKE_INVALID_RESPONSE' });
  });

  test('RFC 9112 §4: the reason phrase is HTAB, SP, VCHAR or obs-text; control characters fail (fuzz finding)', () => {
    // Found by the response-handshake fuzz target: "HTTP/1.1 101 Switching Pro\0ocols" was accepted;
    // the phrase goes into error messages and error.response.statusText (an ESC there reaches terminals).
    for (const control of ['\u0000', '\u001b', '\u007f', '\u000b']) {
      assert.throws(() => parseResponseHead(Buffer.from(`HTTP/1.1 101 Switching${control}Protocols\r\n\r\n`, 'latin1')), { code: 'WSF_ERR_HANDSHAKE_INVALID_RESPONSE' });
    }
    assert.equal(parseResponseHead(Buffer.from('HTTP/1.1 101 Switching\tProtocols \u00e9\r\n\r\n', 'latin1')).statusText, 'Switching\tProtocols \u00e9');
    assert.equal(parseResponseHead(Buffer.from('HTTP/1.1 101 \r\n\r\n')).statusText, '');
    assert.equal(parseResponseHead(Buffer.from('HTTP/1.1 101\r\n\r\n')).statusText, '');
  });
});

describe('header tokens and extension lists (RFC 9110 §5.6.1, RFC 6455 §9.1)', () => {
  test('RFC 9110 §5.6.1: headerHasToken matches whole tokens, case-insensitively, in comma lists', () => {
    assert.equal(headerHasToken('keep-alive, Upgrade', 'upgrade'), true);
    assert.equal(headerHasToken('foo,WebSocket ', 'websocket'), true);
    assert.equal(headerHasToken('upgrades', 'upgrade'), false);
    assert.equal(headerHasToken(undefined, 'upgrade'), false);
    // RFC 9110 §5.6.3: OWS is spaces and horizontal tabs, nothing else (fuzz finding: U+00A0 was trimmed).
    assert.equal(headerHasToken(' \tkeep-alive ,\t upgrade \t', 'upgrade'), true);
    assert.equal(headerHasToken('\u00a0upgrade', 'upgrade'), false);
    assert.equal(headerHasToken('upgrade\u00a0', 'upgrade'), false);
    assert.equal(headerHasToken('keep-alive,\u000bupgrade', 'upgrade'), false);
  });

  test('RFC 6455 §9.1: parseExtensionHeader reads names, bare and valued params, quoted values', () => {
    assert.deepEqual(parseExtensionHeader('permessage-deflate; client_max_window_bits; server_max_window_bits="10", foo'), [
      { name: 'permessage-deflate', params: [['client_max_window_bits', true], ['server_max_window_bits', '10']] },
      { name: 'foo', params: [] },
    ]);
  });

  test('RFC 9110 §5.6.1: empty list elements are skipped; RFC 9110 §5.6.4: a quoted-pair stands for the character after the backslash', () => {
    assert.deepEqual(parseExtensionHeader(', permessage-deflate ,, x-a; v="1\\0" ,'), [
      { name: 'permessage-deflate', params: [] },
      { name: 'x-a', params: [['v', '10']] },
    ]);
    assert.deepEqual(parseExtensionHeader(''), []);
    assert.throws(() => parseExtensionHeader('x; v="ab\\'), { code: 'WSF_ERR_HANDSHAKE_EXTENSION', message: 'invalid Sec-WebSocket-Extensions: unterminated quoted string' });
  });

  for (const bad of ['a b', 'foo; =1', 'foo; a="b c"', 'foo;', '"quoted"', 'foo; a=', 'foo bar; x']) {
    test(`RFC 6455 §9.1: extension header ${JSON.stringify(bad)} is malformed (WSF_ERR_HANDSHAKE_EXTENSION)`, () => {
      assert.throws(() => parseExtensionHeader(bad), { code: 'WSF_ERR_HANDSHAKE_EXTENSION' });
    });
  }
});
