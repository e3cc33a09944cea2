/**
 * The attacker of an attack test, in its own process so that its work shares neither the server's
 * nor the good clients' event loop:
 *
 *   node attacker.js <mode> --port P [--conns N] [--size B] [--fragments F] [--pings P]
 *                    [--duration-ms D] [--interval-ms I]
 *
 * It opens its connections and prints `{"event":"ready",...}`; the stdin line `go` starts the
 * attack; it prints `{"event":"report",...}` when the attack is over (modes that end by
 * themselves) or on the stdin line `stop`, then exits. The end of stdin exits at once.
 *
 * Modes:
 *   non-reading     N connections complete the handshake, then never read and never write
 *   echo-flood      N connections send B-byte binary messages as fast as their sockets take them,
 *                   never reading the echoes
 *   fragments       N connections each send one binary message as F one-byte fragments, all written
 *                   at once, then read the echo and check every byte of it
 *   ping-flood      N connections send P pings with 125-byte payloads as fast as their sockets take
 *                   them, never reading
 *   endless-header  N connections send a request head whose last header line never ends, read the
 *                   answer, and keep writing after it until the server stops them or D ms pass
 *   slowloris       N connections send the start of a request head, then one more byte every I ms,
 *                   until the server closes them or D ms pass
 */
import { connect as netConnect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { upgradeRequest } from '../../helpers/raw-peer.js';
import { clientFrame, OP, WireFrameReader } from '../../helpers/wire-frames.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string' },
    conns: { type: 'string', default: '1' },
    size: { type: 'string', default: '1024' },
    fragments: { type: 'string', default: '262143' },
    pings: { type: 'string', default: '1000000' },
    'duration-ms': { type: 'string', default: '10000' },
    'interval-ms': { type: 'string', default: '500' },
  },
});
const mode = positionals[0];
const port = Number(values.port);
const conns = Number(values.conns);
const durationMs = Number(values['duration-ms']);
/** Handshakes in flight at once while opening connections. */
const OPENING_CONCURRENCY = 200;

function print(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

/** Before any connection was opened. */
const processStart = performance.now();
/** Milliseconds since the attack started (the `go` line). */
let attackStart = 0;
const sinceStart = (): number => Math.round(performance.now() - attackStart);

/** `ignoreFin`: go on writing after the server's FIN, as an attacker would (Node would end our side too). */
function openSocket(ignoreFin = false): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ port, host: '127.0.0.1', allowHalfOpen: ignoreFin });
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => {
        // recorded by the mode through 'close' (a paused socket learns of a reset when it writes)
      });
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Open a connection and complete the opening handshake; the socket is paused after the 101. */
async function openUpgraded(): Promise<Socket> {
  const socket = await openSocket();
  socket.write(upgradeRequest());
  await new Promise<void>((resolve, reject) => {
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.pause();
      socket.off('data', onData);
      socket.off('close', onClose);
      if (head.startsWith('HTTP/1.1 101 ')) resolve();
      else reject(new Error(`handshake refused: ${head.slice(0, head.indexOf('\r\n'))}`));
    };
    const onClose = (): void => reject(new Error('closed during the handshake'));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
  return socket;
}

/** Open `n` connections with `open`, a bounded number at a time; failures are counted. */
async function openMany(n: number, open: () => Promise<Socket>): Promise<{ sockets: Socket[]; failures: string[] }> {
  const sockets: Socket[] = [];
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      try {
        sockets.push(await open());
      } catch (error) {
        failures.push((error as Error).message);
        if (failures.length > 100) throw new Error(`too many connections failed: ${failures.slice(0, 3).join('; ')}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(OPENING_CONCURRENCY, n) }, worker));
  return { sockets, failures };
}

/** When each socket closed (ms into the attack), -1 while open. */
function trackCloses(sockets: readonly Socket[]): number[] {
  const closedAt = sockets.map(() => -1);
  sockets.forEach((socket, i) => {
    if (socket.destroyed) closedAt[i] = 0;
    else socket.once('close', () => (closedAt[i] = sinceStart()));
  });
  return closedAt;
}

/** Write `chunk` again and again while the socket takes it; `accepted` is told of each chunk the kernel took. */
function floodWith(socket: Socket, chunk: Buffer, until: () => boolean, accepted: (bytes: number) => void): void {
  const onWritten = (error?: Error | null): void => {
    if (error === undefined || error === null) accepted(chunk.length);
  };
  const pump = (): void => {
    while (!socket.destroyed && !until()) {
      if (!socket.write(chunk, onWritten)) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

function commandsFromStdin(onGo: () => void, onStop: () => void): void {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === 'go') onGo();
    else if (line.trim() === 'stop') onStop();
  });
  // The test process is gone: do not outlive it.
  lines.on('close', () => process.exit(0));
}

/** Ready, wait for `go`, attack; report on `stop`, or when `finished` resolves. */
function run(ready: Record<string, unknown>, attack: () => Promise<void> | void, report: () => Record<string, unknown>): void {
  let reported = false;
  const finish = (): void => {
    if (reported) return;
    reported = true;
    // How long before `go` the first connection was opened: no connection is older than this plus a time since `go`.
    print({ event: 'report', mode, openedBeforeGoMs: Math.round(attackStart - processStart), ...report() });
    process.exit(0);
  };
  commandsFromStdin(() => {
    attackStart = performance.now();
    Promise.resolve(attack()).then(finish, (error: unknown) => {
      print({ event: 'report', mode, error: (error as Error).message, ...report() });
      process.exit(1);
    });
  }, finish);
  print({ event: 'ready', mode, ...ready });
}

async function nonReading(): Promise<void> {
  const { sockets, failures } = await openMany(conns, openUpgraded);
  const closedAt = trackCloses(sockets);
  run({ opened: sockets.length, failed: failures.length, firstFailure: failures[0] ?? null }, () => new Promise<void>(() => {}), () => ({
    opened: sockets.length,
    closedSeen: closedAt.filter((t) => t >= 0).length,
  }));
}

async function echoFlood(): Promise<void> {
  const size = Number(values.size);
  const frame = clientFrame({ opcode: OP.BINARY, payload: Buffer.alloc(size, 0x61) });
  // 64 KiB or more of whole frames per write
  const chunk = Buffer.concat(Array.from({ length: Math.max(1, Math.ceil(65536 / frame.length)) }, () => frame));
  const { sockets, failures } = await openMany(conns, openUpgraded);
  const closedAt = trackCloses(sockets);
  const accepted = sockets.map(() => ({ bytes: 0 }));
  let stopped = false;
  run(
    { opened: sockets.length, failed: failures.length },
    () => {
      sockets.forEach((socket, i) => floodWith(socket, chunk, () => stopped, (bytes) => (accepted[i]!.bytes += bytes)));
      return new Promise<void>(() => {});
    },
    () => {
      stopped = true;
      return { opened: sockets.length, closedAt, bytesAccepted: accepted.map((a) => a.bytes) };
    },
  );
}

/** One binary message of `count` one-byte fragments, masked; payload byte i is i & 0xff. */
function fragmentedMessage(count: number): Buffer {
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    frames.push(clientFrame({ opcode: i === 0 ? OP.BINARY : OP.CONTINUATION, fin: i === count - 1, payload: Uint8Array.of(i & 0xff) }));
  }
  return Buffer.concat(frames);
}

async function fragments(): Promise<void> {
  const count = Number(values.fragments);
  const message = fragmentedMessage(count);
  const { sockets, failures } = await openMany(conns, openUpgraded);
  const results = sockets.map(() => ({ echoedAtMs: -1, length: -1, correct: false, closeCode: -1, closedAtMs: -1 }));
  run(
    { opened: sockets.length, failed: failures.length, wireBytesPerConnection: message.length },
    () =>
      Promise.all(
        sockets.map(
          (socket, i) =>
            new Promise<void>((resolve) => {
              const result = results[i]!;
              const reader = new WireFrameReader();
              const parts: Buffer[] = [];
              socket.on('data', (data: Buffer) => {
                for (const frame of reader.push(data)) {
                  if (frame.opcode === OP.CLOSE) {
                    result.closeCode = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
                    continue;
                  }
                  parts.push(frame.payload);
                  if (!frame.fin || result.echoedAtMs !== -1) continue;
                  result.echoedAtMs = sinceStart();
                  const echo = Buffer.concat(parts);
                  result.length = echo.length;
                  result.correct = echo.length === count && echo.every((byte, at) => byte === (at & 0xff));
                  resolve();
                }
              });
              socket.once('close', () => {
                result.closedAtMs = sinceStart();
                resolve();
              });
              socket.resume();
              socket.write(message);
            }),
        ),
      ).then(() => undefined),
    () => ({ opened: sockets.length, results }),
  );
}

async function pingFlood(): Promise<void> {
  const pings = Number(values.pings);
  const perWrite = 500;
  const ping = clientFrame({ opcode: OP.PING, payload: Buffer.alloc(125, 0x70) });
  const chunk = Buffer.concat(Array.from({ length: perWrite }, () => ping));
  const { sockets, failures } = await openMany(conns, openUpgraded);
  const closedAt = trackCloses(sockets);
  const accepted = sockets.map(() => ({ bytes: 0 }));
  const doneAt = sockets.map(() => -1);
  const deadline = (): boolean => sinceStart() > durationMs;
  run(
    { opened: sockets.length, failed: failures.length },
    () =>
      Promise.all(
        sockets.map(
          (socket, i) =>
            new Promise<void>((resolve) => {
              const written = accepted[i]!;
              const enough = (): boolean => written.bytes >= pings * ping.length || deadline();
              const check = setInterval(() => {
                if (enough() || socket.destroyed) {
                  clearInterval(check);
                  doneAt[i] = sinceStart();
                  resolve();
                }
              }, 20);
              floodWith(socket, chunk, enough, (bytes) => (written.bytes += bytes));
            }),
        ),
      ).then(() => undefined),
    () => ({
      opened: sockets.length,
      pingsAccepted: accepted.map((a) => Math.floor(a.bytes / ping.length)),
      doneAtMs: doneAt,
      closedAt,
    }),
  );
}

interface RequestResult {
  /** The status of the server's answer, 0 while none. */
  status: number;
  answeredAtMs: number;
  /** Bytes the kernel had accepted from us when the answer arrived, and in all. */
  acceptedAtAnswer: number;
  accepted: number;
  /** The server's FIN, and the end of the connection (reset or close), ms into the attack; -1: not seen. */
  endedAtMs: number;
  closedAtMs: number;
  closeError: string;
  /** We closed it ourselves at the end of the attack (the server never did). */
  gaveUp: boolean;
}

/** End a connection the server has not ended by the end of the attack. */
function giveUp(socket: Socket, result: RequestResult): void {
  if (socket.destroyed) return;
  result.gaveUp = true;
  socket.destroy();
}

/** A connection that writes a request head (or never finishes one) and records what the server does. */
function watchRequest(socket: Socket): RequestResult {
  const result: RequestResult = {
    status: 0,
    answeredAtMs: -1,
    acceptedAtAnswer: -1,
    accepted: 0,
    endedAtMs: -1,
    closedAtMs: -1,
    closeError: '',
    gaveUp: false,
  };
  let head = '';
  socket.on('data', (data: Buffer) => {
    if (result.status !== 0) return;
    head += data.toString('latin1');
    const match = /^HTTP\/1\.1 (\d{3}) /.exec(head);
    if (match !== null) {
      result.status = Number(match[1]);
      result.answeredAtMs = sinceStart();
      result.acceptedAtAnswer = result.accepted;
    }
  });
  socket.once('end', () => (result.endedAtMs = sinceStart()));
  socket.once('error', (error: NodeJS.ErrnoException) => (result.closeError = error.code ?? error.message));
  socket.once('close', () => (result.closedAtMs = sinceStart()));
  return result;
}

async function endlessHeader(): Promise<void> {
  const start = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Endless: ';
  const filler = Buffer.alloc(16 * 1024, 0x61);
  const { sockets, failures } = await openMany(conns, () => openSocket(true));
  const results: RequestResult[] = [];
  run(
    { opened: sockets.length, failed: failures.length },
    () =>
      Promise.all(
        sockets.map(
          (socket) =>
            new Promise<void>((resolve) => {
              const result = watchRequest(socket);
              results.push(result);
              socket.write(start, (error) => {
                if (!error) result.accepted += start.length;
              });
              const timer = setTimeout(giveUp, durationMs, socket, result);
              socket.once('close', () => {
                clearTimeout(timer);
                resolve();
              });
              floodWith(socket, filler, () => false, (bytes) => (result.accepted += bytes));
            }),
        ),
      ).then(() => undefined),
    () => ({ opened: sockets.length, results }),
  );
}

async function slowloris(): Promise<void> {
  const intervalMs = Number(values['interval-ms']);
  const start = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Slow: ';
  const { sockets, failures } = await openMany(conns, () => openSocket(true));
  const results: RequestResult[] = [];
  run(
    { opened: sockets.length, failed: failures.length },
    () =>
      Promise.all(
        sockets.map(
          (socket) =>
            new Promise<void>((resolve) => {
              const result = watchRequest(socket);
              results.push(result);
              socket.write(start);
              const drip = setInterval(() => {
                if (!socket.destroyed) socket.write('x');
              }, intervalMs);
              const timer = setTimeout(giveUp, durationMs, socket, result);
              socket.once('close', () => {
                clearInterval(drip);
                clearTimeout(timer);
                resolve();
              });
            }),
        ),
      ).then(() => undefined),
    () => ({ opened: sockets.length, results }),
  );
}

const MODES: Record<string, () => Promise<void>> = {
  'non-reading': nonReading,
  'echo-flood': echoFlood,
  fragments,
  'ping-flood': pingFlood,
  'endless-header': endlessHeader,
  slowloris,
};

const selected = mode === undefined ? undefined : MODES[mode];
if (selected === undefined || !Number.isInteger(port) || port <= 0) {
  process.stderr.write(`usage: attacker.js <${Object.keys(MODES).join('|')}> --port P [--conns N] ...\n`);
  process.exit(2);
}
selected().catch((error: unknown) => {
  print({ event: 'report', mode, error: (error as Error).message });
  process.exit(1);
});
