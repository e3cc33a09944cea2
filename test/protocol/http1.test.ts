/**
 * HTTP/1.1 without sockets: the head parser's line rules (RFC 9112 §2.2, §3, §4, §5; RFC 9110
 * §5.5), telling non-HTTP bytes from a request start, the bodies a client shows when a server
 * refuses the handshake (Content-Length and chunked, RFC 9112 §6.3, §7.1), and the error
 * responses a server writes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildErrorResponse, ErrorCode, findHeadEnd, HandshakeRejection, parseRequestHead, parseResponseHead } from '../../src/protocol/index.js';
import { responseBodyComplete, responseBodyPrefix } from '../../src/protocol/http1/body.js';
import { isNotHttpRequestStart } from '../../src/protocol/http1/head-parser.js';
import { guardProcess } from '../helpers/process-guard.js';

guardProcess();

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

/** The 400 reason a request head is refused with. */
function requestRefusal(text: string): string {
  try {
    parseRequestHead(latin1(text));
  } catch (error) {
    assert.ok(error instanceof HandshakeRejection, `a HandshakeRejection, not ${String(error)}`);
    assert.equal(error.status, 400);
    return error.reason;
  }
  assert.fail(`accepted: ${JSON.stringify(text)}`);
}

describe('request heads (RFC 9112 §2.2, §3, §5)', () => {
  const refusals: Array<[string, string, string]> = [
    ['RFC 9112 §2.2: the last header line without its CRLF', 'GET / HTTP/1.1\r\nHost: a', 'header line without CRLF'],
    ['RFC 9112 §2.2: a bare LF inside a header name', 'GET / HTTP/1.1\r\nHo\nst: a\r\n\r\n', 'bare CR or LF in the head'],
    ['RFC 9112 §2.2: a bare LF inside a header value', 'GET / HTTP/1.1\r\nHost: a\nX-Injected: 1\r\n\r\n', 'bare CR or LF in the head'],
    ['RFC 9112 §2.2: a bare LF ending the request line', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 'bare CR or LF in the head'],
    ['RFC 9110 §5.1: a header name with a separator', 'GET / HTTP/1.1\r\nX(y): a\r\n\r\n', 'invalid header name'],
    ['RFC 9110 §5.1: a header name with a byte above 0x7f', 'GET / HTTP/1.1\r\nX-\xe9: a\r\n\r\n', 'invalid header name'],
    ['RFC 9112 §5: a line without a colon', 'GET / HTTP/1.1\r\nHost\r\n\r\n', 'malformed header line'],
    ['RFC 9112 §5: a line starting with the colon (empty name)', 'GET / HTTP/1.1\r\n: a\r\n\r\n', 'malformed header line'],
    ['RFC 9110 §5.5: a control character in a value', 'GET / HTTP/1.1\r\nX-A: a\x01b\r\n\r\n', 'invalid character in a header value'],
    ['RFC 9110 §5.5: DEL in a value', 'GET / HTTP/1.1\r\nX-A: a\x7fb\r\n\r\n', 'invalid character in a header value'],
    ['RFC 9112 §5.2: obs-fold with a tab', 'GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n', 'folded header line'],
    ['RFC 9112 §3: a request line without a version', 'GET /\r\n\r\n', 'malformed request line'],
  ];
  for (const [rule, text, reason] of refusals) {
    test(`${rule} → 400 "${reason}"`, () => {
      assert.equal(requestRefusal(text), reason);
    });
  }

  test('RFC 9110 §5.5: values lose surrounding spaces and tabs, keep inner ones; an empty value is a value', () => {
    const head = parseRequestHead(latin1('GET / HTTP/1.1\r\nX-A: \t a \t b \t\r\nX-Empty:\r\nX-Spaces:   \r\n\r\n'));
    assert.equal(head.headers['x-a'], 'a \t b');
    assert.equal(head.headers['x-empty'], '');
    assert.equal(head.headers['x-spaces'], '');
  });

  test('RFC 9112 §2.1: a head given without its blank line (or without any header) still parses', () => {
    const bare = parseRequestHead(latin1('GET /path HTTP/1.1'));
    assert.deepEqual([bare.method, bare.target, bare.httpVersion, Object.keys(bare.headers)], ['GET', '/path', '1.1', []]);
    const noBlank = parseRequestHead(latin1('GET / HTTP/1.1\r\nHost: a\r\n'));
    assert.equal(noBlank.headers['host'], 'a');
  });

  test('decision: findHeadEnd answers 431 (or the status given) for a head over the limit, even when complete', () => {
    const head = latin1('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(findHeadEnd(head, head.length), head.length);
    assert.throws(() => findHeadEnd(head, head.length - 1), (e: unknown) => e instanceof HandshakeRejection && e.status === 431);
    assert.throws(() => findHeadEnd(head, head.length - 1, 414), (e: unknown) => e instanceof HandshakeRejection && e.status === 414);
  });
});

describe('telling an HTTP request start from other bytes (RFC 9112 §3)', () => {
  const cases: Array<[string, Buffer, boolean]> = [
    ['"GET " (a method token, then a space)', latin1('GET / HTTP/1.1\r\n'), false],
    ['"GE" (too early to tell)', latin1('GE'), false],
    ['nothing yet', Buffer.alloc(0), false],
    ['a TLS ClientHello (0x16 0x03 0x01)', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), true],
    ['a space first (no method)', latin1(' GET / HTTP/1.1'), true],
    ['a byte above 0x7f', latin1('G\xc9T / HTTP/1.1'), true],
    ['CR LF before any method', latin1('\r\nGET /'), true],
    ['31 token bytes, no space yet', latin1('A'.repeat(31)), false],
    ['32 token bytes without a space (no method is that long)', latin1('A'.repeat(32)), true],
  ];
  for (const [name, bytes, refused] of cases) {
    test(`RFC 9112 §3: ${name} → ${refused ? 'not HTTP: refused at once' : 'may be HTTP: wait for more'}`, () => {
      assert.equal(isNotHttpRequestStart(bytes), refused);
    });
  }
});

describe('response heads (RFC 9112 §4)', () => {
  test('RFC 9112 §4: a status line without a reason phrase has an empty statusText; a head without headers parses', () => {
    const head = parseResponseHead(latin1('HTTP/1.1 101'));
    assert.deepEqual([head.httpVersion, head.status, head.statusText, Object.keys(head.headers)], ['1.1', 101, '', []]);
  });

  test('RFC 9112 §2.2: a response with bare LF line endings fails with WSF_ERR_HANDSHAKE_INVALID_RESPONSE', () => {
    assert.throws(() => parseResponseHead(latin1('HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n\n')), {
      code: ErrorCode.HANDSHAKE_INVALID_RESPONSE,
      message: 'invalid handshake response: the response head has bare CR or LF line endings',
    });
  });

  test('RFC 9112 §5: a malformed header line in a response fails with WSF_ERR_HANDSHAKE_INVALID_RESPONSE, the head as cause', () => {
    const text = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade\r\n\r\n';
    assert.throws(
      () => parseResponseHead(latin1(text)),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, ErrorCode.HANDSHAKE_INVALID_RESPONSE);
        assert.equal(error.message, 'invalid handshake response: malformed header line');
        assert.equal(error.cause, text);
        return true;
      },
    );
  });
});

describe('refusal bodies as a client shows them (RFC 9112 §6.3, §7.1)', () => {
  const chunked = { 'transfer-encoding': 'chunked' };

  test('RFC 9112 §6.3: a Content-Length body is taken as it is, up to the limit; complete once that many bytes arrived', () => {
    const headers = { 'content-length': '11' };
    assert.equal(responseBodyPrefix(headers, latin1('origin deni'), 100).toString(), 'origin deni');
    assert.equal(responseBodyPrefix(headers, latin1('origin deni'), 6).toString(), 'origin');
    assert.equal(responseBodyComplete(headers, latin1('origin den')), false);
    assert.equal(responseBodyComplete(headers, latin1('origin deni')), true);
  });

  test('RFC 9112 §6.3: without Content-Length or chunked coding the body is never known to be complete (it ends with the connection)', () => {
    assert.equal(responseBodyComplete({}, latin1('anything')), false);
    assert.equal(responseBodyComplete({ 'content-length': 'ten' }, latin1('anything')), false);
  });

  test('RFC 9112 §7.1: chunked bodies lose their framing: sizes in hex, chunk extensions, CRLFs; the last chunk ends them', () => {
    const body = latin1('5\r\nHello\r\n19;name=value\r\n, this is a chunked body.\r\n0\r\n\r\n');
    assert.equal(responseBodyPrefix(chunked, body, 1000).toString(), 'Hello, this is a chunked body.');
    assert.equal(responseBodyComplete(chunked, body), true);
    assert.equal(responseBodyComplete(chunked, latin1('0\r\n\r\n')), true, 'an empty chunked body');
    assert.equal(responseBodyComplete(chunked, body.subarray(0, 20)), false);
  });

  test('RFC 9112 §7.1: the decoded body stops at the limit, inside a chunk or between chunks', () => {
    const body = latin1('5\r\nHello\r\n6\r\n world\r\n0\r\n\r\n');
    assert.equal(responseBodyPrefix(chunked, body, 3).toString(), 'Hel');
    assert.equal(responseBodyPrefix(chunked, body, 5).toString(), 'Hello');
    assert.equal(responseBodyPrefix(chunked, body, 8).toString(), 'Hello wo');
  });

  test('RFC 9112 §7.1: a body cut short is decoded as far as it goes (inside a chunk, or before a size line ends)', () => {
    assert.equal(responseBodyPrefix(chunked, latin1('5\r\nHello\r\nA\r\nabc'), 100).toString(), 'Helloabc');
    assert.equal(responseBodyPrefix(chunked, latin1('5\r\nHello\r\n1'), 100).toString(), 'Hello');
  });

  test('RFC 9112 §7.1: decoding stops at a chunk size that is not hex (what came before is kept)', () => {
    assert.equal(responseBodyPrefix(chunked, latin1('5\r\nHello\r\nzz\r\nignored\r\n0\r\n\r\n'), 100).toString(), 'Hello');
    assert.equal(responseBodyPrefix(chunked, latin1('123456789\r\nx'), 100).toString(), '', 'more than 8 hex digits is not a size we read');
  });
});

describe('error responses (RFC 9110 §15, RFC 9112 §6)', () => {
  test('RFC 9110 §15: a status without a registered text gets "Error"; an empty body has Content-Length 0 and nothing after the head', () => {
    assert.equal(buildErrorResponse(418, ''), 'HTTP/1.1 418 Error\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 0\r\n\r\n');
  });

  test('RFC 9110 §5.3: a header given as a list is written as repeated fields, each value checked', () => {
    const response = buildErrorResponse(401, 'sign in\n', { 'WWW-Authenticate': ['Bearer', 'Basic realm="x"'] });
    assert.ok(response.includes('\r\nWWW-Authenticate: Bearer\r\nWWW-Authenticate: Basic realm="x"\r\n'));
    assert.ok(response.endsWith('\r\n\r\nsign in\n'), 'a body already ending with a newline is kept as is');
    assert.throws(() => buildErrorResponse(401, 'x', { 'WWW-Authenticate': ['Bearer', 'Basic\r\nSet-Cookie: a=b'] }), { code: ErrorCode.INVALID_ARGUMENT });
    assert.throws(() => buildErrorResponse(401, 'x', { 'X-Nul': 'a\0b' }), { code: ErrorCode.INVALID_ARGUMENT });
  });
});
