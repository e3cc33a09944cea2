/**
 * Whether an upgrade request that node:http parsed is a valid opening handshake (RFC 6455
 * §4.2.1), by wsforge's rules: what ws reports through 'wsClientError' when someone listens.
 */
import type { IncomingMessage } from 'node:http';
import { HandshakeRejection, type HeaderMap, type HttpRequestHead, validateUpgradeRequest } from '../protocol/index.js';

/** The request as wsforge's handshake functions take it (lowercased names, repeats joined). */
function requestHead(request: IncomingMessage): HttpRequestHead {
  const headers: HeaderMap = Object.create(null) as HeaderMap;
  const headerCounts: Record<string, number> = Object.create(null) as Record<string, number>;
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${previous}, ${value}`;
    headerCounts[name] = (headerCounts[name] ?? 0) + 1;
  }
  return { method: request.method ?? '', target: request.url ?? '/', httpVersion: request.httpVersion, headers, headerCounts };
}

/** The refusal (with its HTTP status, reason and headers) for an invalid handshake, or null. */
export function upgradeProblem(request: IncomingMessage): HandshakeRejection | null {
  try {
    validateUpgradeRequest(requestHead(request));
    return null;
  } catch (error) {
    if (error instanceof HandshakeRejection) return error;
    throw error;
  }
}
