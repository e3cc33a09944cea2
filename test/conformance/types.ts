// The case table format. A case is pure data: what to send (frames, how they are chunked, pauses) and what
// must come back. The same case runs against a server under test (the driver is a fuzzing client and masks its
// frames) and against a client under test (the driver is a fuzzing server and does not mask).
//
// Extensions (e.g. permessage-deflate, Autobahn 12.*/13.*) are data as well: `handshake` carries the offer /
// answer, FrameSpec carries RSV1 (for hand-made compressed payloads), a DeflateStep has the driver compress a
// message with the negotiated parameters, and the driver decodes compressed messages from the peer when the
// handshake negotiated permessage-deflate (see wire.ts, deflate.ts).
import type { FrameSpec } from './frame-spec.js';

export type Side = 'server' | 'client';

/** Bytes to send. A frame (or several, coalesced into one write) encoded for the driver's role. */
export interface SendStep {
  send: FrameSpec | FrameSpec[];
  /** Write the encoded bytes in chunks of this many bytes (1 = one byte at a time); default one write. */
  chunk?: number;
  /** Pause between chunks in ms; default 0 (the driver still yields to the event loop between chunks). */
  chunkDelayMs?: number;
  /**
   * Send only bytes [start, end) of the encoded frames. Steps that name the same FrameSpec object(s) share
   * one encoding (one masking key), so a frame can be split across steps, e.g. for fail-fast cases.
   */
  range?: [number, number?];
  /**
   * How `range` counts: `frame` (default) = offsets in the encoded bytes; `payload` = offsets in the payload of
   * a single frame, the header going with the part that starts at 0 (so a split point does not depend on the
   * header length, which differs between masked and unmasked frames).
   */
  rangeIn?: 'frame' | 'payload';
}

/** Raw bytes, sent as they are (no masking), for what FrameSpec cannot express. */
export interface RawStep {
  raw: Buffer;
  chunk?: number;
  chunkDelayMs?: number;
}

export interface PauseStep {
  pause: number;
}

/** Half-close the TCP connection (send FIN), without a close frame. */
export interface EndStep {
  endTcp: true;
}

/**
 * A message the driver compresses itself with permessage-deflate (RFC 7692), as negotiated in the handshake: its
 * own agreed window, and context takeover when its side may keep it. RSV1 on the first frame; the compressed
 * payload is split into frames of `fragmentSize` bytes when given (continuations without RSV1, §6.1).
 */
export interface DeflateStep {
  deflate: { opcode: number; payload: Buffer | string; fragmentSize?: number };
  chunk?: number;
  chunkDelayMs?: number;
}

export type Step = SendStep | RawStep | PauseStep | EndStep | DeflateStep;

/** One item the peer must send back: a reassembled data message or a pong. */
export interface ExpectedItem {
  type: 'text' | 'binary' | 'pong';
  data: Buffer;
  /** May be absent (e.g. the echo of a valid message sent just before a protocol error). */
  optional?: boolean;
}

/** The peer echoes `messages`, then the driver closes (1000) and expects close 1000 back. */
export interface EchoOutcome {
  kind: 'echo';
  messages: ExpectedItem[];
  /**
   * Echoed messages of at least this many bytes must arrive compressed (RSV1). Not an RFC rule (compression is
   * per message and optional): a check that the compression cases exercise the peer's compressor; the targets
   * compress from 1024 bytes (wsforge's and ws's default threshold).
   */
  compressedFrom?: number;
}

/** A close frame with one of `codes` (null = close without payload) arrives, then TCP is closed. */
export interface CloseOutcome {
  kind: 'close';
  codes: (number | null)[];
  /** What may arrive before the close frame; default nothing. */
  messages?: ExpectedItem[];
}

/**
 * The close (one of `codes`) must arrive before `rest` is sent: after the steps the driver waits up to
 * `waitMs` for it; only if none came does it send `rest` (and the case fails).
 */
export interface FailFastOutcome {
  kind: 'failFast';
  codes: (number | null)[];
  rest: Step[];
  /** Default 2000 ms. */
  waitMs?: number;
  messages?: ExpectedItem[];
}

/** The peer closes TCP. */
export interface DroppedOutcome {
  kind: 'dropped';
  /** required: a close frame (with one of `codes` if given) precedes the TCP close; forbidden: none; optional. */
  closeFrame: 'required' | 'optional' | 'forbidden';
  codes?: (number | null)[];
  messages?: ExpectedItem[];
}

export type Outcome = EchoOutcome | CloseOutcome | FailFastOutcome | DroppedOutcome;

/** Opening handshake parameters, as data (used by extension cases). */
export interface HandshakeSpec {
  /** Fuzzing client: Sec-WebSocket-Extensions offered to the server under test. */
  offerExtensions?: string;
  /**
   * Fuzzing client: the Sec-WebSocket-Extensions the server must answer (null = header absent): a string is
   * compared ignoring whitespace, a RegExp is matched. When not given: absent if nothing was offered, not
   * checked otherwise. Whatever the server answers to a permessage-deflate offer is also checked against the
   * offer by the RFC 7692 rules (deflate.ts).
   */
  expectExtensions?: string | null | RegExp;
  /** Fuzzing server: Sec-WebSocket-Extensions answered to the client under test. */
  answerExtensions?: string;
  /** Fuzzing server: the client's offer must match this (null = header absent); not checked when undefined. */
  expectOffer?: RegExp | null;
  /**
   * Fuzzing server: write the first step's bytes in the same TCP write as the 101 response (frames that arrive
   * in the same read as the handshake response). Otherwise the fuzzing server waits POST_UPGRADE_DELAY_MS after
   * the 101 before the first step, so that other cases do not depend on how a client treats such bytes.
   */
  framesWithResponse?: boolean;
  /** Client under test: options passed to the client library's connect() (e.g. to enable deflate). */
  clientOptions?: Record<string, unknown>;
  /** Client under test run as a process (the CLI targets): extra arguments (e.g. `--deflate`). */
  clientCliArgs?: string[];
}

export interface Case {
  /** Autobahn-style id, e.g. "1.1.1". */
  id: string;
  description: string;
  steps: Step[];
  outcome: Outcome;
  /** Bound for each wait of the case (messages, close frame, TCP close); default 5000 ms. */
  timeoutMs?: number;
  /** Which sides the case applies to; default both. */
  sides?: Side[];
  handshake?: HandshakeSpec;
  /**
   * The case needs the target to negotiate permessage-deflate: it runs on targets configured for it (e.g.
   * `server-deflate`) and on client targets (which enable it per case), not on plain server targets.
   */
  needs?: 'permessage-deflate';
  /** Scheduling weight (1 = light); large-message cases use more so that few run at once. */
  weight?: number;
}

export interface Category {
  /** e.g. "1" */
  id: string;
  name: string;
  cases: Case[];
}
