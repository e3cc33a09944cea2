/**
 * The text message decoded last, and where its validated UTF-8 bytes are. Echo and relay
 * servers send back the string they just received: an equal string is then framed by copying
 * those bytes instead of encoding it again. Measured with bench/micro/hot-path.ts under
 * callgrind (instructions, repeatable): 14% fewer instructions per echoed 4 KiB text message,
 * no measurable difference at 32 bytes (encoding short ASCII is a copy loop either way).
 * Shared by every connection of the process, and owned here: the receive path records, the
 * frame writer reads.
 *
 * Sound because a delivered region is never modified afterwards: the parser unmasks before
 * delivering and never writes to a chunk again. Connections that let user code see frames
 * (observeFrames) do not record, since that code could write into the payload.
 */
let text: string | null = null;
let source: Buffer | null = null;
let start = 0;
let end = 0;

/** Record a text message just decoded from `bytes[from, to)`. */
export function rememberDecodedText(decoded: string, bytes: Buffer, from: number, to: number): void {
  text = decoded;
  source = bytes;
  start = from;
  end = to;
}

/** The UTF-8 bytes of `candidate` if it is the text decoded last (same string object or equal), else null. */
export function recentTextBytes(candidate: string): { source: Buffer; start: number; end: number } | null {
  if (candidate !== text || source === null) return null;
  recentRegion.source = source;
  recentRegion.start = start;
  recentRegion.end = end;
  return recentRegion;
}

/** Reused for every answer: the caller reads it at once (no object per echoed message). */
const recentRegion: { source: Buffer; start: number; end: number } = { source: Buffer.alloc(0), start: 0, end: 0 };
