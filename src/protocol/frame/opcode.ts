/** RFC 6455 §5.2 opcodes, and the frame as the frame-level API sends and observes it. */

export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** RFC 6455 §5.5: control frames carry at most 125 bytes of payload. */
export const MAX_CONTROL_PAYLOAD = 125;

/** A frame as the frame-level API sends and observes it. */
export interface Frame {
  /** 0-15; opcodes other than those in `Opcode` are reserved and fail the connection. */
  readonly opcode: number;
  readonly fin: boolean;
  /** RSV1: set by permessage-deflate on the first frame of a compressed message. */
  readonly rsv1: boolean;
  readonly rsv2: boolean;
  readonly rsv3: boolean;
  /** Unmasked payload. */
  readonly payload: Buffer;
}

export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** The empty payload, shared. */
export const EMPTY: Buffer = Buffer.alloc(0);
