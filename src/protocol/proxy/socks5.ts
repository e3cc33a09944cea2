/**
 * The client side of a SOCKS5 CONNECT (RFC 1928) with optional username/password
 * authentication (RFC 1929), sans-I/O: `start()` gives the first bytes to send, `receive(chunk)`
 * takes what the proxy sent (in any chunking) and says what to send next, or that the tunnel is
 * open and which bytes after the proxy's reply already belong to it.
 */

/** Where the tunnel goes: an IP address, or a name the proxy resolves (socks5h:). */
export interface Socks5Destination {
  readonly host: string;
  readonly port: number;
  readonly addressType: 'ipv4' | 'ipv6' | 'domain';
}

/** Why a SOCKS5 negotiation failed: the proxy refused (`refused`), or did not speak SOCKS5. */
export class Socks5Failure extends Error {
  constructor(
    message: string,
    readonly refused: boolean,
    /** The reply code of a refused CONNECT (RFC 1928 §6), when there was one. */
    readonly reply?: number,
  ) {
    super(message);
    this.name = 'Socks5Failure';
  }
}

export interface Socks5Step {
  /** Bytes to send to the proxy now, if any. */
  readonly send?: Buffer;
  /** The tunnel is open; `rest` is what came after the proxy's reply (the target's first bytes). */
  readonly open?: { readonly rest: Buffer };
}

const VERSION = 0x05;
const METHOD_NONE = 0x00;
const METHOD_USERNAME_PASSWORD = 0x02;
const NO_ACCEPTABLE_METHOD = 0xff;
const USERNAME_PASSWORD_VERSION = 0x01;
const CMD_CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

/** RFC 1928 §6: the meaning of each reply code. */
const REPLY_MEANING: Readonly<Record<number, string>> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

type Phase = 'method' | 'auth' | 'reply' | 'open';

export class Socks5Negotiation {
  private phase: Phase = 'method';
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly destination: Socks5Destination,
    private readonly credentials?: { readonly username: string; readonly password: string },
  ) {
    if (credentials !== undefined) {
      // RFC 1929 §2: each field is 1 to 255 bytes.
      for (const [name, value] of [['username', credentials.username], ['password', credentials.password]] as const) {
        const length = Buffer.byteLength(value);
        if (length < 1 || length > 255) throw new Socks5Failure(`the SOCKS5 ${name} must be 1-255 bytes (RFC 1929), got ${length}`, false);
      }
    }
    if (destination.addressType === 'domain' && (Buffer.byteLength(destination.host) < 1 || Buffer.byteLength(destination.host) > 255)) {
      throw new Socks5Failure('a SOCKS5 host name is 1-255 bytes (RFC 1928 §5)', false);
    }
  }

  /** The greeting: version 5 and the methods offered (RFC 1928 §3). */
  start(): Buffer {
    return this.credentials === undefined
      ? Buffer.from([VERSION, 1, METHOD_NONE])
      : Buffer.from([VERSION, 2, METHOD_NONE, METHOD_USERNAME_PASSWORD]);
  }

  receive(chunk: Buffer): Socks5Step {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    switch (this.phase) {
      case 'method':
        return this.methodSelected();
      case 'auth':
        return this.authenticated();
      case 'reply':
        return this.replied();
      case 'open':
        throw new Socks5Failure('the SOCKS5 negotiation is over', false);
    }
  }

  private take(length: number): Buffer | null {
    if (this.pending.length < length) return null;
    const taken = this.pending.subarray(0, length);
    this.pending = this.pending.subarray(length);
    return taken;
  }

  private methodSelected(): Socks5Step {
    const answer = this.take(2);
    if (answer === null) return {};
    if (answer[0] !== VERSION) throw new Socks5Failure(`not a SOCKS5 proxy (version byte ${answer[0]!})`, false);
    const method = answer[1]!;
    if (method === NO_ACCEPTABLE_METHOD) {
      throw new Socks5Failure(this.credentials === undefined ? 'it requires authentication' : 'it accepts neither no authentication nor username/password', true);
    }
    if (method === METHOD_USERNAME_PASSWORD && this.credentials !== undefined) {
      this.phase = 'auth';
      const username = Buffer.from(this.credentials.username, 'utf8');
      const password = Buffer.from(this.credentials.password, 'utf8');
      // RFC 1929 §2: VER ULEN UNAME PLEN PASSWD.
      const request = Buffer.concat([Buffer.from([USERNAME_PASSWORD_VERSION, username.length]), username, Buffer.from([password.length]), password]);
      return { send: request, ...this.continueWith() };
    }
    if (method !== METHOD_NONE) throw new Socks5Failure(`it chose authentication method ${method}, which was not offered`, false);
    return this.sendRequest();
  }

  private authenticated(): Socks5Step {
    const answer = this.take(2);
    if (answer === null) return {};
    // RFC 1929 §2: STATUS 0 is success; anything else, and the server closes the connection.
    if (answer[1] !== 0) throw new Socks5Failure('it rejected the username and password (RFC 1929)', true);
    return this.sendRequest();
  }

  /** RFC 1928 §4: VER CMD RSV ATYP DST.ADDR DST.PORT. */
  private sendRequest(): Socks5Step {
    this.phase = 'reply';
    const { host, port, addressType } = this.destination;
    let address: Buffer;
    if (addressType === 'ipv4') address = Buffer.concat([Buffer.from([ATYP_IPV4]), Buffer.from(host.split('.').map(Number))]);
    else if (addressType === 'ipv6') address = Buffer.concat([Buffer.from([ATYP_IPV6]), ipv6Bytes(host)]);
    else address = Buffer.concat([Buffer.from([ATYP_DOMAIN, Buffer.byteLength(host)]), Buffer.from(host, 'utf8')]);
    const portBytes = Buffer.from([port >> 8, port & 0xff]);
    const request = Buffer.concat([Buffer.from([VERSION, CMD_CONNECT, 0x00]), address, portBytes]);
    return { send: request, ...this.continueWith() };
  }

  /** Nothing may follow an answer before the proxy got our next message (RFC 1928 is lock-step). */
  private continueWith(): Socks5Step {
    if (this.pending.length > 0) throw new Socks5Failure('the proxy sent more than its answer', false);
    return {};
  }

  private replied(): Socks5Step {
    // VER REP RSV ATYP BND.ADDR BND.PORT: the length depends on ATYP.
    if (this.pending.length < 5) return {};
    const pending = this.pending;
    if (pending[0] !== VERSION) throw new Socks5Failure(`not a SOCKS5 reply (version byte ${pending[0]!})`, false);
    const reply = pending[1]!;
    if (reply !== 0) {
      throw new Socks5Failure(`${REPLY_MEANING[reply] ?? 'unassigned reply code'} (reply ${reply})`, true, reply);
    }
    const type = pending[3]!;
    let addressLength: number;
    if (type === ATYP_IPV4) addressLength = 4;
    else if (type === ATYP_IPV6) addressLength = 16;
    else if (type === ATYP_DOMAIN) addressLength = 1 + pending[4]!;
    else throw new Socks5Failure(`the reply has an unknown address type ${type}`, false);
    const length = 4 + addressLength + 2;
    if (this.take(length) === null) return {};
    this.phase = 'open';
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return { open: { rest } };
  }
}

/** The 16 bytes of an IPv6 address in text form (with :: and an embedded IPv4 tail). */
function ipv6Bytes(text: string): Buffer {
  let groups: string[];
  let tail: number[] = [];
  let address = text;
  const lastColon = address.lastIndexOf(':');
  if (address.slice(lastColon + 1).includes('.')) {
    tail = address.slice(lastColon + 1).split('.').map(Number);
    address = `${address.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = address.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  if (rest === undefined) {
    groups = headGroups;
  } else {
    const restGroups = rest === '' ? [] : rest.split(':');
    groups = [...headGroups, ...new Array<string>(8 - headGroups.length - restGroups.length).fill('0'), ...restGroups];
  }
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  if (tail.length === 4) tail.forEach((byte, i) => (bytes[12 + i] = byte));
  return bytes;
}
