/**
 * The sans-I/O proxy client pieces, byte by byte: the HTTP CONNECT request (RFC 9110 §9.3.6,
 * Basic credentials per RFC 7617) and the SOCKS5 negotiation (RFC 1928, RFC 1929), fed in
 * every chunking.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connectAuthority, formatConnectRequest, tunnelEstablished } from '../../src/protocol/proxy/http-connect.js';
import { Socks5Failure, Socks5Negotiation, type Socks5Step } from '../../src/protocol/proxy/socks5.js';

describe('HTTP CONNECT request', () => {
  test('RFC 9110 §9.3.6: authority-form target and a matching Host; IPv6 in brackets', () => {
    assert.equal(formatConnectRequest('example.com', 443), 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    assert.equal(connectAuthority('::1', 8080), '[::1]:8080');
  });

  test('RFC 7617: Proxy-Authorization: Basic base64(user ":" password), UTF-8', () => {
    const head = formatConnectRequest('h', 80, { username: 'Aladdin', password: 'open sesame' });
    assert.match(head, /\r\nProxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n/);
    const utf8 = formatConnectRequest('h', 80, { username: 'test', password: '123£' });
    assert.match(utf8, /Basic dGVzdDoxMjPCow==/);
  });

  test('any 2xx opens the tunnel; other statuses do not', () => {
    assert.deepEqual([199, 200, 204, 299, 300, 407].map(tunnelEstablished), [false, true, true, true, false, false]);
  });
});

/** Feed the proxy's bytes one at a time; returns every step with something in it. */
function feedBytewise(negotiation: Socks5Negotiation, bytes: number[]): Socks5Step[] {
  const steps: Socks5Step[] = [];
  for (const byte of bytes) {
    const step = negotiation.receive(Buffer.from([byte]));
    if (step.send !== undefined || step.open !== undefined) steps.push(step);
  }
  return steps;
}

describe('SOCKS5 negotiation', () => {
  test('RFC 1928: no authentication, a domain name (socks5h), reply with an IPv4 bound address', () => {
    const negotiation = new Socks5Negotiation({ host: 'example.com', port: 443, addressType: 'domain' });
    assert.deepEqual([...negotiation.start()], [5, 1, 0]);
    const [request] = feedBytewise(negotiation, [5, 0]);
    assert.deepEqual([...request!.send!], [5, 1, 0, 3, 11, ...Buffer.from('example.com'), 0x01, 0xbb]);
    const [open] = feedBytewise(negotiation, [5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90]);
    assert.deepEqual(open, { open: { rest: Buffer.alloc(0) } });
  });

  test('an IPv4 and an IPv6 destination are sent as addresses (ATYP 1 and 4)', () => {
    const v4 = new Socks5Negotiation({ host: '127.0.0.1', port: 80, addressType: 'ipv4' });
    v4.start();
    assert.deepEqual([...v4.receive(Buffer.from([5, 0])).send!], [5, 1, 0, 1, 127, 0, 0, 1, 0, 80]);
    const v6 = new Socks5Negotiation({ host: '2001:db8::1', port: 80, addressType: 'ipv6' });
    v6.start();
    const expected = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    assert.deepEqual([...v6.receive(Buffer.from([5, 0])).send!], [5, 1, 0, 4, ...expected, 0, 80]);
    const mapped = new Socks5Negotiation({ host: '::ffff:10.0.0.1', port: 1, addressType: 'ipv6' });
    mapped.start();
    assert.deepEqual([...mapped.receive(Buffer.from([5, 0])).send!.subarray(4, 20)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1]);
  });

  test('RFC 1929: username/password offered and sent; success, then the CONNECT request', () => {
    const negotiation = new Socks5Negotiation({ host: '10.0.0.1', port: 9, addressType: 'ipv4' }, { username: 'u', password: 'pw' });
    assert.deepEqual([...negotiation.start()], [5, 2, 0, 2]);
    const auth = negotiation.receive(Buffer.from([5, 2]));
    assert.deepEqual([...auth.send!], [1, 1, 0x75, 2, 0x70, 0x77]);
    const request = negotiation.receive(Buffer.from([1, 0]));
    assert.deepEqual([...request.send!], [5, 1, 0, 1, 10, 0, 0, 1, 0, 9]);
  });

  test('bytes after the reply (a domain-name bound address here) are the tunnel\'s first bytes', () => {
    const negotiation = new Socks5Negotiation({ host: '10.0.0.1', port: 9, addressType: 'ipv4' });
    negotiation.start();
    negotiation.receive(Buffer.from([5, 0]));
    const step = negotiation.receive(Buffer.from([5, 0, 0, 3, 3, 0x61, 0x62, 0x63, 0, 1, 0x48, 0x54]));
    assert.deepEqual(step.open?.rest, Buffer.from('HT'));
  });

  test('refusals: no acceptable method, rejected credentials, each reply code named', () => {
    const refused = (fn: () => unknown, pattern: RegExp, reply?: number) =>
      assert.throws(fn, (error: unknown) => error instanceof Socks5Failure && error.refused && pattern.test(error.message) && error.reply === reply);
    const noAuth = new Socks5Negotiation({ host: 'h', port: 1, addressType: 'domain' });
    noAuth.start();
    refused(() => noAuth.receive(Buffer.from([5, 0xff])), /requires authentication/);
    const badPassword = new Socks5Negotiation({ host: 'h', port: 1, addressType: 'domain' }, { username: 'u', password: 'p' });
    badPassword.start();
    badPassword.receive(Buffer.from([5, 2]));
    refused(() => badPassword.receive(Buffer.from([1, 1])), /rejected the username and password/);
    for (const [code, meaning] of [[1, 'general SOCKS server failure'], [2, 'not allowed by ruleset'], [5, 'connection refused'], [8, 'address type not supported'], [9, 'unassigned']] as const) {
      const negotiation = new Socks5Negotiation({ host: 'h', port: 1, addressType: 'domain' });
      negotiation.start();
      negotiation.receive(Buffer.from([5, 0]));
      refused(() => negotiation.receive(Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0])), new RegExp(`${meaning}.*\\(reply ${code}\\)`), code);
    }
  });

  test('not SOCKS5: a wrong version byte, a method not offered, or bytes before asked are failures, not refusals', () => {
    const notSocks = (fn: () => unknown) => assert.throws(fn, (error: unknown) => error instanceof Socks5Failure && !error.refused);
    const http = new Socks5Negotiation({ host: 'h', port: 1, addressType: 'domain' });
    http.start();
    notSocks(() => http.receive(Buffer.from('HTTP/1.1 400 Bad Request\r\n')));
    const unoffered = new Socks5Negotiation({ host: 'h', port: 1, addressType: 'domain' });
    unoffered.start();
    notSocks(() => unoffered.receive(Buffer.from([5, 2])));
    const eager = new Socks5Negotiation({ host: 'h', port: 1, addressType: 'domain' });
    eager.start();
    notSocks(() => eager.receive(Buffer.from([5, 0, 5, 0, 0, 1])));
    notSocks(() => new Socks5Negotiation({ host: 'h', port: 1, addressType: 'domain' }, { username: '', password: 'p' }));
    notSocks(() => new Socks5Negotiation({ host: 'x'.repeat(256), port: 1, addressType: 'domain' }));
  });
});

describe('SOCKS5 replies and addresses, every branch', () => {
  function negotiated(destination: { host: string; addressType: 'ipv4' | 'ipv6' | 'domain' }, credentials?: { username: string; password: string }): Socks5Negotiation {
    const negotiation = new Socks5Negotiation({ port: 1, ...destination }, credentials);
    negotiation.start();
    return negotiation;
  }
  const ipv6Request = (host: string): number[] => [...negotiated({ host, addressType: 'ipv6' }).receive(Buffer.from([5, 0])).send!.subarray(4, 20)];

  test('RFC 4291 §2.2: IPv6 destinations in full form, with :: at the end, and :: alone', () => {
    assert.deepEqual(ipv6Request('2001:db8:0:0:0:0:0:1'), [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(ipv6Request('fe80::'), [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(ipv6Request('::'), new Array(16).fill(0));
  });

  test('RFC 1928 §6: a reply with an IPv6 bound address (ATYP 4) opens the tunnel; its rest follows', () => {
    const negotiation = negotiated({ host: 'h', addressType: 'domain' });
    negotiation.receive(Buffer.from([5, 0]));
    assert.deepEqual(negotiation.receive(Buffer.from([5, 0, 0, 4, ...new Array(16).fill(0)])), {}, 'the port is still missing');
    assert.deepEqual(negotiation.receive(Buffer.from([0, 80, 0x2a])), { open: { rest: Buffer.from([0x2a]) } });
  });

  test('RFC 1928 §6: a reply with an unknown address type, or a wrong version byte, is not SOCKS5', () => {
    const notSocks = (reply: number[], pattern: RegExp) => {
      const negotiation = negotiated({ host: 'h', addressType: 'domain' });
      negotiation.receive(Buffer.from([5, 0]));
      assert.throws(() => negotiation.receive(Buffer.from(reply)), (error: unknown) => error instanceof Socks5Failure && !error.refused && pattern.test(error.message));
    };
    notSocks([5, 0, 0, 2, 0, 0, 0], /unknown address type 2/);
    notSocks([4, 0, 0, 1, 0, 0, 0, 0, 0, 0], /not a SOCKS5 reply \(version byte 4\)/);
  });

  test('RFC 1929: a proxy refusing both methods offered; a password answer split in two', () => {
    const withCredentials = negotiated({ host: 'h', addressType: 'domain' }, { username: 'u', password: 'p' });
    assert.throws(() => withCredentials.receive(Buffer.from([5, 0xff])), (error: unknown) => error instanceof Socks5Failure && error.refused && /neither no authentication nor username\/password/.test(error.message));
    const split = negotiated({ host: 'h', addressType: 'domain' }, { username: 'u', password: 'p' });
    split.receive(Buffer.from([5, 2]));
    assert.deepEqual(split.receive(Buffer.from([1])), {});
    assert.deepEqual([...split.receive(Buffer.from([0])).send!.subarray(0, 4)], [5, 1, 0, 3]);
  });

  test('RFC 1928: bytes after the tunnel opened are not the negotiation\'s (a caller bug): it throws', () => {
    const negotiation = negotiated({ host: '10.0.0.1', addressType: 'ipv4' });
    negotiation.receive(Buffer.from([5, 0]));
    negotiation.receive(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
    assert.throws(() => negotiation.receive(Buffer.from('data')), (error: unknown) => error instanceof Socks5Failure && /negotiation is over/.test(error.message));
  });
});
