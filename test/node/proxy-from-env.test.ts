/**
 * The environment's proxy rules (src/node/client/proxy-from-env.ts) as a table: which variable
 * applies to ws: and wss:, lowercase over uppercase (curl), empty values, ALL_PROXY, and
 * NO_PROXY entries (names and their subdomains, `*`, ports, IPv4 and IPv6 literals and ranges).
 * Also the proxy URL parser: schemes, default ports, credentials kept out of the label.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bypassesProxy, proxyFromEnvironment, type ProxyEnvironment } from '../../src/node/client/proxy-from-env.js';
import { parseProxyUrl } from '../../src/node/client/proxy-server.js';
import { WebSocketError } from '../../src/index.js';

const ws = (host: string, port = 80) => ({ host, port, secure: false });
const wss = (host: string, port = 443) => ({ host, port, secure: true });

describe('which proxy variable applies', () => {
  const cases: Array<[string, { host: string; port: number; secure: boolean }, ProxyEnvironment, string | null]> = [
    ['nothing set: direct', ws('a.example'), {}, null],
    ['ws: uses HTTP_PROXY', ws('a.example'), { HTTP_PROXY: 'http://p:1' }, 'http://p:1'],
    ['wss: uses HTTPS_PROXY', wss('a.example'), { HTTPS_PROXY: 'http://p:2', HTTP_PROXY: 'http://p:1' }, 'http://p:2'],
    ['wss: does not fall back to HTTP_PROXY', wss('a.example'), { HTTP_PROXY: 'http://p:1' }, null],
    ['ws: does not use HTTPS_PROXY', ws('a.example'), { HTTPS_PROXY: 'http://p:2' }, null],
    ['lowercase wins over uppercase (curl)', ws('a.example'), { http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:1' }, 'http://lower:1'],
    ['lowercase https_proxy wins', wss('a.example'), { https_proxy: 'http://lower:2', HTTPS_PROXY: 'http://upper:2' }, 'http://lower:2'],
    ['an empty lowercase value counts as unset', ws('a.example'), { http_proxy: '', HTTP_PROXY: 'http://upper:1' }, 'http://upper:1'],
    ['ALL_PROXY when the scheme variable is unset', ws('a.example'), { ALL_PROXY: 'socks5://s:1080' }, 'socks5://s:1080'],
    ['all_proxy over ALL_PROXY', wss('a.example'), { all_proxy: 'socks5h://l:1', ALL_PROXY: 'socks5://u:1' }, 'socks5h://l:1'],
    ['the scheme variable over ALL_PROXY', ws('a.example'), { HTTP_PROXY: 'http://p:1', ALL_PROXY: 'socks5://s:1' }, 'http://p:1'],
    ['NO_PROXY exempts', ws('a.example'), { HTTP_PROXY: 'http://p:1', NO_PROXY: 'a.example' }, null],
    ['no_proxy wins over NO_PROXY', ws('a.example'), { HTTP_PROXY: 'http://p:1', no_proxy: 'b.example', NO_PROXY: 'a.example' }, 'http://p:1'],
    ['NO_PROXY exempts from ALL_PROXY too', ws('a.example'), { ALL_PROXY: 'http://p:1', NO_PROXY: '*' }, null],
  ];
  for (const [name, target, env, expected] of cases) {
    test(name, () => assert.equal(proxyFromEnvironment(target, env), expected));
  }
});

describe('NO_PROXY entries', () => {
  // [host, port, NO_PROXY, bypassed]
  const cases: Array<[string, number, string, boolean]> = [
    ['example.com', 80, 'example.com', true],
    ['www.example.com', 80, 'example.com', true],
    ['a.b.example.com', 80, 'example.com', true],
    ['badexample.com', 80, 'example.com', false],
    ['example.com', 80, '.example.com', true],
    ['www.example.com', 80, '.example.com', true],
    ['www.example.com', 80, '*.example.com', true],
    ['example.com', 80, '*.example.com', true],
    ['EXAMPLE.com', 80, 'example.COM', true],
    ['example.com.', 80, 'example.com', true],
    ['example.org', 80, 'example.com', false],
    ['anything', 80, '*', true],
    ['anything', 80, 'a, *', true], // undici: a `*` entry anywhere; curl only when it is the whole value
    ['anything', 80, 'a.example,*', true],
    ['example.com', 80, 'foo.example, example.com', true],
    ['example.com', 80, 'foo.example  example.com', true],
    ['example.com', 80, ' , ,', false],
    ['example.com', 8080, 'example.com:8080', true],
    ['example.com', 80, 'example.com:8080', false],
    ['www.example.com', 8080, '.example.com:8080', true],
    ['127.0.0.1', 80, '127.0.0.1', true],
    ['127.0.0.1', 80, '127.0.0.2', false],
    ['127.0.0.1', 9000, '127.0.0.1:9000', true],
    ['127.0.0.1', 9001, '127.0.0.1:9000', false],
    ['10.1.2.3', 80, '10.0.0.0/8', true],
    ['11.1.2.3', 80, '10.0.0.0/8', false],
    ['192.168.1.7', 80, '192.168.1.0/24', true],
    ['127.0.0.1', 80, '0.0.1', false],
    ['127.0.0.1', 80, 'localhost', false],
    ['localhost', 80, 'localhost', true],
    ['::1', 80, '::1', true],
    ['::1', 80, '[::1]', true],
    ['::1', 80, '0:0:0:0:0:0:0:1', true],
    ['::1', 8080, '[::1]:8080', true],
    ['::1', 8081, '[::1]:8080', false],
    ['[::1]', 80, '::1', true],
    ['fd00::5', 80, 'fd00::/8', true],
    ['fe80::5', 80, 'fd00::/8', false],
    ['::2', 80, '::1', false],
    ['::ffff:127.0.0.1', 80, '127.0.0.1', false],
  ];
  for (const [host, port, noProxy, expected] of cases) {
    test(`${host}:${port} with NO_PROXY="${noProxy}" ${expected ? 'goes direct' : 'uses the proxy'}`, () => {
      assert.equal(bypassesProxy(host, port, noProxy), expected);
    });
  }
});

describe('proxy URLs', () => {
  test('http: with credentials: percent-decoded credentials, a label without them', () => {
    const proxy = parseProxyUrl('http://al%20ice:p%40ss@proxy.example:3128');
    assert.deepEqual(proxy, {
      protocol: 'http',
      host: 'proxy.example',
      port: 3128,
      credentials: { username: 'al ice', password: 'p@ss' },
      label: 'http://proxy.example:3128',
    });
  });

  test('default ports: 80 for http:, 1080 for socks5: and socks5h:; IPv6 without brackets', () => {
    assert.equal(parseProxyUrl('http://p.example').port, 80);
    assert.equal(parseProxyUrl('socks5://p.example').port, 1080);
    assert.equal(parseProxyUrl('socks5h://p.example').port, 1080);
    const v6 = parseProxyUrl('socks5://[::1]:9050');
    assert.equal(v6.host, '::1');
    assert.equal(v6.label, 'socks5://[::1]:9050');
  });

  test('no scheme: an HTTP proxy, as curl reads it', () => {
    const proxy = parseProxyUrl('proxy.example:8080');
    assert.equal(proxy.protocol, 'http');
    assert.equal(proxy.port, 8080);
  });

  test('unsupported schemes and malformed URLs: WSF_ERR_INVALID_URL, without the credentials', () => {
    for (const [input, pattern] of [
      ['https://u:secret@p.example', /unsupported proxy scheme https:/],
      ['socks4://p.example', /unsupported proxy scheme socks4:/],
      ['http://u:secret@', /invalid proxy URL|no host/],
    ] as const) {
      assert.throws(
        () => parseProxyUrl(input),
        (error: unknown) => error instanceof WebSocketError && error.code === 'WSF_ERR_INVALID_URL' && pattern.test(error.message) && !error.message.includes('secret'),
        input,
      );
    }
  });
});
