/** Seeds of the `extension-negotiation` target: a settings byte (server options in bits 0-2, client options in bits 3-5), then a header value. */

function seed(settings: number, header: string): Buffer {
  return Buffer.concat([Buffer.from([settings]), Buffer.from(header, 'latin1')]);
}

export function extensionSeeds(): Record<string, Buffer> {
  return {
    'browser-offer': seed(0, 'permessage-deflate; client_max_window_bits'),
    'rfc-7692-two-offers': seed(1, 'permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate; client_max_window_bits'),
    'all-parameters': seed(2 | (1 << 3), 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11'),
    'quoted-values': seed(3 | (2 << 3), 'permessage-deflate; server_max_window_bits="10"; client_max_window_bits="8"'),
    'response-with-bits': seed(5 << 3, 'permessage-deflate; server_max_window_bits=8; client_max_window_bits=8'),
    'invalid-then-valid': seed(4, 'permessage-deflate; server_max_window_bits=16, permessage-deflate; client_max_window_bits=9'),
    'leading-zero': seed(7 << 3, 'permessage-deflate; server_max_window_bits=010'),
    'duplicate-parameter': seed(6, 'permessage-deflate; client_no_context_takeover; client_no_context_takeover'),
    'unknown-parameter': seed(0, 'permessage-deflate; x=1, foo; bar, , baz'),
    'empty-elements-and-spaces': seed(5, ' ,\tpermessage-deflate ;\tclient_max_window_bits , ,'),
    'escaped-quote': seed(0, 'foo; a="b\\"c", permessage-deflate; client_max_window_bits="1\\5"'),
    'upper-case': seed(7, 'PerMessage-Deflate; Server_No_Context_Takeover; CLIENT_MAX_WINDOW_BITS'),
  };
}
