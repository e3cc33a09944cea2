/** How `wsforge connect` prints a received message: text as is, binary as "[binary N bytes] <hex>". */
export function formatReceivedMessage(data: string | Buffer, isBinary: boolean): string {
  if (!isBinary) return `${data as string}\n`;
  const bytes = data as Buffer;
  const shown = bytes.subarray(0, 256).toString('hex');
  return `[binary ${bytes.length} bytes] ${shown}${bytes.length > 256 ? '…' : ''}\n`;
}
