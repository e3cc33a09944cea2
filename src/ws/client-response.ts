/**
 * The response objects of the client's 'upgrade' and 'unexpected-response' events: ws hands
 * over node:http's `IncomingMessage`, so these are real IncomingMessages, filled from the
 * response head wsforge parsed (RFC 9112 §4-§5) instead of by node:http's parser. What differs:
 * header names in `rawHeaders` are lowercased (wsforge keeps no original spelling), repeated
 * fields are one value joined with ", " (`set-cookie` too), and the body of an
 * 'unexpected-response' holds its first 512 bytes, decoded (chunked framing removed): enough
 * for an error page, and what wsforge reads before it closes the connection.
 */
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';

export interface ResponseHead {
  readonly status: number;
  readonly statusText: string;
  /** Lowercased names; repeated fields joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly httpVersion?: string;
}

/** An ended IncomingMessage with the head and, when given, the body. */
export function incomingMessageFor(head: ResponseHead, body: string | null): IncomingMessage {
  // The socket is a placeholder, never connected: the connection the response came on is
  // wsforge's (open for 'upgrade', closed for 'unexpected-response').
  const message = new IncomingMessage(new Socket());
  message.statusCode = head.status;
  message.statusMessage = head.statusText;
  const version = head.httpVersion ?? '1.1';
  message.httpVersion = version;
  const [major, minor] = version.split('.');
  message.httpVersionMajor = Number(major);
  message.httpVersionMinor = Number(minor ?? 0);
  const headers: Record<string, string> = {};
  const raw: string[] = [];
  for (const [name, value] of Object.entries(head.headers)) {
    headers[name] = value;
    raw.push(name, value);
  }
  message.headers = headers;
  message.rawHeaders = raw;
  if (body !== null) {
    if (body !== '') message.push(Buffer.from(body, 'utf8'));
    message.push(null);
  }
  return message;
}
