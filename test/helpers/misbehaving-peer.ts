/**
 * A misbehaving WebSocket client, run as a child process so its own work does not slow the
 * server's event loop: `node misbehaving-peer.js <mode> <port> <durationMs>`.
 * Prints one JSON line with what it did, then exits 0.
 *
 * Modes:
 *   bad-frames      connect, handshake, send an invalid frame, wait for the close; repeat
 *   half-handshake  open 50 connections that send half a request head and then nothing
 *   ping-flood      one connection that sends pings as fast as the socket takes them, never reading
 *   data-flood      one connection that sends 64 KiB messages as fast as it can, never reading the echoes
 */
import { connect, type Socket } from 'node:net';
import { upgradeRequest } from './raw-peer.js';
import { clientFrame, OP } from './wire-frames.js';

const [mode, portText, durationText] = process.argv.slice(2);
const port = Number(portText);
const duration = Number(durationText);
const deadline = Date.now() + duration;
const stats = { mode, connections: 0, bytesSent: 0, closesSeen: 0, timeouts408: 0 };

const HANDSHAKE = upgradeRequest();

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      stats.connections++;
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Open and handshake; resolves once the 101 head is in. */
async function upgraded(): Promise<Socket> {
  const socket = await open();
  socket.on('error', () => {});
  socket.write(HANDSHAKE);
  await new Promise<void>((resolve, reject) => {
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        socket.off('data', onData);
        if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`handshake refused: ${head.split('\r\n')[0]}`));
        else resolve();
      }
    };
    socket.on('data', onData);
  });
  return socket;
}

/** Write frames as fast as the socket accepts them until the deadline. */
async function flood(socket: Socket, frame: Buffer): Promise<void> {
  let gone = false;
  socket.once('close', () => (gone = true));
  while (Date.now() < deadline && !gone) {
    let ok = true;
    for (let i = 0; i < 64 && ok; i++) {
      ok = socket.write(frame);
      stats.bytesSent += frame.length;
    }
    if (!ok) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        socket.once('drain', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    } else {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

async function main(): Promise<void> {
  if (mode === 'bad-frames') {
    const badFrames = [
      clientFrame({ opcode: 3 }),
      clientFrame({ opcode: OP.TEXT, rsv2: true }),
      clientFrame({ opcode: OP.TEXT, payload: Buffer.from([0xff, 0xfe]) }),
      clientFrame({ opcode: OP.PING, fin: false }),
      clientFrame({ opcode: OP.TEXT, payload: 'unmasked', mask: null }),
      clientFrame({ opcode: OP.BINARY, declaredLength: 2 ** 40 }),
    ];
    let i = 0;
    while (Date.now() < deadline) {
      const socket = await upgraded();
      socket.write(badFrames[i++ % badFrames.length]!);
      await new Promise<void>((resolve) => {
        socket.resume();
        socket.once('close', () => {
          stats.closesSeen++;
          resolve();
        });
      });
    }
  } else if (mode === 'half-handshake') {
    const sockets: Socket[] = [];
    for (let i = 0; i < 50; i++) {
      const socket = await open();
      socket.on('error', () => {});
      socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
      let response = '';
      socket.on('data', (chunk: Buffer) => {
        const before = response.length;
        response += chunk.toString('latin1');
        if (before < 12 && response.startsWith('HTTP/1.1 408')) stats.timeouts408++;
      });
      sockets.push(socket);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())));
    for (const socket of sockets) socket.destroy();
  } else if (mode === 'ping-flood' || mode === 'data-flood') {
    const socket = await upgraded();
    socket.pause(); // never read: pongs / echoes pile up on the server side
    const frame =
      mode === 'ping-flood'
        ? clientFrame({ opcode: OP.PING, payload: Buffer.alloc(125, 0x70) })
        : clientFrame({ opcode: OP.BINARY, payload: Buffer.alloc(64 * 1024, 0x64) });
    await flood(socket, frame);
    socket.destroy();
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

main().then(
  () => {
    process.stdout.write(JSON.stringify(stats) + '\n');
    process.exit(0);
  },
  (error: Error) => {
    process.stdout.write(JSON.stringify({ ...stats, error: error.message }) + '\n');
    process.exit(1);
  },
);
