/** Bytes written as hex, spaces allowed for readability: `hexBytes('81 05 48656c6c6f')`. */
export function hexBytes(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}
