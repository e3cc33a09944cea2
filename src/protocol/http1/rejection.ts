/**
 * An HTTP error response that refuses a request: its status, a short plain-text reason and extra
 * header fields. The head parser throws one for a malformed head; the handshake decision returns
 * one for a request it refuses. Node's responders write it out (HTTP/1.1 or HTTP/2 alike).
 */
export class HandshakeRejection extends Error {
  /** Tells a rejection from an acceptance in a handshake outcome. */
  readonly accepted = false;
  /**
   * What went wrong on our side when the status is 500 (a hook threw, returned something
   * invalid): the server reports it to its `error` listeners; the peer only sees the status.
   */
  readonly failure: Error | undefined;

  constructor(
    readonly status: number,
    readonly reason: string,
    readonly headers: Readonly<Record<string, string>> = {},
    failure?: Error,
  ) {
    super(reason);
    this.name = 'HandshakeRejection';
    this.failure = failure;
  }
}
