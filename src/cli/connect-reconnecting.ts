/**
 * `wsforge connect --reconnect`: the connect command over a ReconnectingClient. Dropped
 * connections and failed attempts are retried with backoff (stderr says when and why); stdin
 * lines typed while disconnected are sent once connected again. It exits 0 when stdin ends
 * (after closing with 1000), 1 when the client gives up.
 */
import { createInterface } from 'node:readline';
import { type ConnectOptions, ReconnectingClient, WebSocketError } from '../index.js';
import { formatReceivedMessage } from './received-message.js';

export interface ReconnectingSessionFlags {
  readonly echo: boolean;
  readonly binary: boolean;
  readonly verbose: boolean;
}

export function runReconnecting(url: string, options: ConnectOptions, flags: ReconnectingSessionFlags, fail: (message: string, status: number) => never): void {
  let client: ReconnectingClient;
  try {
    client = new ReconnectingClient(url, options);
  } catch (error) {
    const err = error as WebSocketError;
    fail(err.message, err.code === 'WSF_ERR_INVALID_URL' ? 2 : 1);
  }
  let opened = 0;
  client.on('open', () => {
    if (opened++ > 0) process.stderr.write('reconnected\n');
  });
  client.on('message', (data, isBinary) => {
    if (flags.echo) {
      client.send(data);
      if (!flags.verbose) return;
    }
    process.stdout.write(formatReceivedMessage(data, isBinary));
  });
  client.on('close', (code, reason) => process.stderr.write(`closed: ${code}${reason ? ` ${JSON.stringify(reason)}` : ''}\n`));
  client.on('reconnecting', ({ attempt, delay, error }) => {
    process.stderr.write(`reconnecting in ${delay} ms (attempt ${attempt})${error === null ? '' : `: ${error.message}`}\n`);
  });
  client.on('end', (error) => {
    if (error !== null) fail(error.message, 1);
    process.exit(0);
  });
  if (!flags.echo) {
    const lines = createInterface({ input: process.stdin, terminal: false });
    lines.on('line', (line) => {
      try {
        client.send(flags.binary ? Buffer.from(line, 'utf8') : line);
      } catch (error) {
        process.stderr.write(`dropped a line: ${(error as Error).message}\n`);
      }
    });
    lines.on('close', () => client.close(1000));
  }
}
