/**
 * How `wsforge connect` prints a received message: text as is (with `--json`, JSON objects and
 * arrays indented by two spaces), binary as "[binary N bytes] <hex>" (the first 256 bytes).
 */
export interface ReceivedMessageFormat {
  /** Pretty-print text messages that are JSON objects or arrays. */
  readonly json: boolean;
}

export function formatReceivedMessage(data: string | Buffer, isBinary: boolean, format: ReceivedMessageFormat = { json: false }): string {
  if (!isBinary) return format.json ? formatJson(data as string) : `${data as string}\n`;
  const bytes = data as Buffer;
  const shown = bytes.subarray(0, 256).toString('hex');
  return `[binary ${bytes.length} bytes] ${shown}${bytes.length > 256 ? '…' : ''}\n`;
}

/** JSON objects and arrays indented by two spaces; any other text (or invalid JSON) as it came. */
function formatJson(text: string): string {
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') {
    try {
      return `${JSON.stringify(JSON.parse(text), null, 2)}\n`;
    } catch {
      // not JSON after all
    }
  }
  return `${text}\n`;
}
