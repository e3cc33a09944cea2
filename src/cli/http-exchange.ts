/**
 * The request and response of `wsforge serve`'s HTTP handler: node:http's, or node:http2's
 * compatibility objects when `--http2` lets ALPN pick HTTP/2 for a connection.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

export type HttpRequest = IncomingMessage | Http2ServerRequest;
export type HttpResponse = ServerResponse | Http2ServerResponse;
