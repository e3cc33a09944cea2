// Frames as the conformance cases describe them. The same case runs with the driver as client (against a
// server under test) and as server (against a client under test), so masking is said relative to the driver's
// role; the bytes themselves come from the tests' own codec (../helpers/wire-frames.ts), never from wsforge's.
import { randomBytes } from 'node:crypto';
import { encodeWireFrame, payloadBytes, type WireFrameSpec } from '../helpers/wire-frames.js';

/** Which end of the connection the conformance driver plays. */
export type DriverRole = 'client' | 'server';

/**
 * How the driver masks a frame.
 * - `role`: as RFC 6455 §5.3 requires for the driver's role (client frames masked, server frames not);
 * - `wrong`: the opposite (a client frame without mask, a server frame with one), to provoke the peer;
 * - `always` / `never`: regardless of role.
 */
export type MaskMode = 'role' | 'wrong' | 'always' | 'never';

/** One frame of a case: every header bit is settable; masking is relative to the driver's role (default `role`). */
export type FrameSpec = Omit<WireFrameSpec, 'mask' | 'payload'> & { payload?: Buffer | string; mask?: MaskMode };

export function payloadOf(spec: FrameSpec): Buffer {
  return payloadBytes(spec.payload);
}

function shouldMask(mode: MaskMode | undefined, role: DriverRole): boolean {
  switch (mode ?? 'role') {
    case 'role':
      return role === 'client';
    case 'wrong':
      return role === 'server';
    case 'always':
      return true;
    case 'never':
      return false;
  }
}

/** Encodes one frame for the given driver role. A fresh random masking key is used for each masked frame. */
export function encodeFrame(spec: FrameSpec, role: DriverRole): Buffer {
  const { mask, ...frame } = spec;
  return encodeWireFrame({ ...frame, mask: shouldMask(mask, role) ? randomBytes(4) : null });
}
