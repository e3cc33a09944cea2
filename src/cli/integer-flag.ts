/**
 * Numeric flags: a value is an integer written in decimal digits and within the flag's range.
 * Number() alone would take "" as 0 (`--port ""` listening on a random port), "0x50" as 80 and
 * "1e9" as a billion.
 */

/** Largest delay a Node timer holds (2^31 - 1 ms); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** The integer `text` spells, if it is one from `min` to `max`; undefined otherwise. */
export function integerInRange(text: string, min: number, max: number): number | undefined {
  if (!/^-?\d{1,16}$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : undefined;
}
