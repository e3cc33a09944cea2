/**
 * Which proxy the environment asks for, for one target: the rules of curl and undici's
 * EnvHttpProxyAgent, as a pure function of the target and the variables.
 *
 * - `https_proxy` for wss: targets, `http_proxy` for ws:, then `all_proxy`; for each name the
 *   lowercase variable wins over the uppercase one (curl's order); an empty value is unset.
 * - `no_proxy` (else `NO_PROXY`): a list separated by commas or spaces. A `*` entry bypasses
 *   every proxy (undici; curl wants `*` alone). A name matches itself and its subdomains
 *   (`example.com`, `.example.com` and `*.example.com` all match `example.com` and
 *   `a.example.com`, never `badexample.com`); an IP
 *   address matches only that address (IPv6 with or without brackets, in any spelling), or a
 *   range in CIDR notation (`10.0.0.0/8`, `fd00::/8`); an entry with `:port` matches only that
 *   port (undici's rule; `[::1]:8080` for IPv6).
 */
import { BlockList, isIP } from 'node:net';

/** What the rules look at: the target's host (IPv6 without brackets), port, and scheme. */
export interface ProxyTarget {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
}

export type ProxyEnvironment = Readonly<Record<string, string | undefined>>;

/** The proxy URL the environment gives for this target, or null for a direct connection. */
export function proxyFromEnvironment(target: ProxyTarget, env: ProxyEnvironment): string | null {
  const proxy = (target.secure ? variable(env, 'https_proxy') : variable(env, 'http_proxy')) ?? variable(env, 'all_proxy');
  if (proxy === undefined) return null;
  const noProxy = variable(env, 'no_proxy');
  if (noProxy !== undefined && bypassesProxy(target.host, target.port, noProxy)) return null;
  return proxy;
}

/** The lowercase variable, else the uppercase one; empty values count as unset. */
function variable(env: ProxyEnvironment, name: string): string | undefined {
  const lower = env[name]?.trim();
  if (lower !== undefined && lower !== '') return lower;
  const upper = env[name.toUpperCase()]?.trim();
  return upper === undefined || upper === '' ? undefined : upper;
}

/** Whether a NO_PROXY list exempts host:port. */
export function bypassesProxy(host: string, port: number, noProxy: string): boolean {
  const name = normalizeHost(host);
  const family = isIP(name);
  for (const raw of noProxy.split(/[\s,]+/)) {
    if (raw === '') continue;
    if (raw === '*') return true;
    const entry = parseEntry(raw);
    if (entry.port !== undefined && entry.port !== port) continue;
    if (entry.prefix !== undefined) {
      if (family !== 0 && inRange(name, family, entry.host, entry.prefix)) return true;
      continue;
    }
    const entryFamily = isIP(entry.host);
    if (entryFamily !== 0) {
      if (family === entryFamily && sameAddress(name, entry.host, family)) return true;
      continue;
    }
    // A name matches at a label boundary; an IP address target never matches a name by suffix.
    if (family === 0 && (name === entry.host || name.endsWith(`.${entry.host}`))) return true;
  }
  return false;
}

interface NoProxyEntry {
  readonly host: string;
  readonly port?: number;
  readonly prefix?: number;
}

function parseEntry(raw: string): NoProxyEntry {
  let text = raw.toLowerCase();
  let port: number | undefined;
  if (text.startsWith('[')) {
    // [v6] or [v6]:port
    const close = text.indexOf(']');
    const after = close === -1 ? '' : text.slice(close + 1);
    if (/^:\d+$/.test(after)) port = Number(after.slice(1));
    text = close === -1 ? text.slice(1) : text.slice(1, close);
  } else if (text.indexOf(':') === text.lastIndexOf(':')) {
    // One colon at most: name:port or v4:port (a bare IPv6 address has several).
    const match = /^(.*):(\d+)$/.exec(text);
    if (match !== null) {
      text = match[1]!;
      port = Number(match[2]);
    }
  }
  const slash = text.indexOf('/');
  if (slash !== -1) {
    const prefix = Number(text.slice(slash + 1));
    const host = text.slice(0, slash);
    if (Number.isInteger(prefix) && isIP(host) !== 0) return port === undefined ? { host, prefix } : { host, prefix, port };
  }
  const host = normalizeHost(text.replace(/^\*?\./, ''));
  return port === undefined ? { host } : { host, port };
}

function normalizeHost(host: string): string {
  let name = host.toLowerCase();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  // A fully qualified name's trailing dot names the same host.
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name;
}

function sameAddress(a: string, b: string, family: number): boolean {
  if (family === 4) return a === b;
  // IPv6 has many spellings (::1, 0:0::1); compare the URL parser's canonical form.
  return new URL(`http://[${a}]/`).hostname === new URL(`http://[${b}]/`).hostname;
}

function inRange(address: string, family: number, network: string, prefix: number): boolean {
  const networkFamily = isIP(network);
  if (networkFamily !== family) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  try {
    list.addSubnet(network, prefix, type);
  } catch {
    return false;
  }
  return list.check(address, type);
}
