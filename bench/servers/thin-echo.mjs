// The thinnest correct-enough WebSocket server on node:net: the ceiling a JS library can approach.
//
// It parses the handshake minimally, computes the accept key, parses frames straight from the chunk,
// unmasks in place, and writes every reply frame produced by one read with ONE socket.write.
// Broadcast mode frames the messages of one read once and writes the same bytes to every socket (the sender
// included), one write per socket per read.
// No validation beyond what is needed: no UTF-8 checks, no limits, no fragmentation reassembly (data frames
// are echoed frame by frame with their opcode and FIN bit), no extensions.
//
// usage: node thin-echo.mjs [--host 127.0.0.1] [--port 0] [--mode echo|broadcast]
import net from 'node:net';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    mode: { type: 'string', default: 'echo' },
  },
});
const broadcastMode = args.mode === 'broadcast';
if (!broadcastMode && args.mode !== 'echo') throw new Error(`unknown --mode ${args.mode}`);

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HEADER_END = Buffer.from('\r\n\r\n');
const KEY_RE = /\r\nsec-websocket-key:[ \t]*([^\r\n]*?)[ \t]*\r\n/i;
/** @type {Set<net.Socket>} */
const clients = new Set();

/** One buffer holding header + payload. */
function frame(first, payload) {
  const len = payload.length;
  const hl = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(hl + len);
  out[0] = first;
  if (hl === 2) out[1] = len;
  else if (hl === 4) {
    out[1] = 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  payload.copy(out, hl);
  return out;
}

function unmask(buf, start, end, m0, m1, m2, m3) {
  let i = start;
  // 4 bytes at a time while possible
  for (const stop = end - 3; i < stop; i += 4) {
    buf[i] ^= m0;
    buf[i + 1] ^= m1;
    buf[i + 2] ^= m2;
    buf[i + 3] ^= m3;
  }
  for (let k = 0; i < end; i++, k++) buf[i] ^= k === 0 ? m0 : k === 1 ? m1 : m2;
}

function onConnection(socket) {
  socket.setNoDelay(true);
  let handshaking = true;
  let head = null; // handshake bytes so far
  let pending = null; // unparsed frame bytes: array of chunks
  let pendingLen = 0;
  let need = 2; // bytes needed before parsing can make progress

  socket.on('error', () => {});
  socket.on('close', () => clients.delete(socket));
  socket.on('data', (chunk) => {
    if (handshaking) {
      head = head === null ? chunk : Buffer.concat([head, chunk]);
      const end = head.indexOf(HEADER_END);
      if (end < 0) {
        if (head.length > 16384) socket.destroy();
        return;
      }
      const text = head.latin1Slice(0, end + 2);
      const m = KEY_RE.exec(text);
      if (m === null) {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const accept = createHash('sha1').update(m[1] + GUID).digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      handshaking = false;
      clients.add(socket);
      chunk = head.subarray(end + 4);
      head = null;
      if (chunk.length === 0) return;
    }
    if (pending !== null) {
      pending.push(chunk);
      pendingLen += chunk.length;
      if (pendingLen < need) return;
      chunk = Buffer.concat(pending, pendingLen);
      pending = null;
      pendingLen = 0;
    }
    let out = null; // frames to send for this read: [first byte, start, end, ...] into chunk
    let outLen = 0;
    let pos = 0;
    const len = chunk.length;
    while (true) {
      const avail = len - pos;
      if (avail < 2) {
        need = 2;
        break;
      }
      const b0 = chunk[pos];
      const b1 = chunk[pos + 1];
      let plen = b1 & 127;
      const masked = (b1 & 128) !== 0;
      const hl = (plen === 126 ? 4 : plen === 127 ? 10 : 2) + (masked ? 4 : 0);
      if (avail < hl) {
        need = hl;
        break;
      }
      if (plen === 126) plen = chunk.readUInt16BE(pos + 2);
      else if (plen === 127) plen = Number(chunk.readBigUInt64BE(pos + 2));
      if (avail < hl + plen) {
        need = hl + plen;
        break;
      }
      const start = pos + hl;
      const end = start + plen;
      if (masked) {
        const mk = start - 4;
        unmask(chunk, start, end, chunk[mk], chunk[mk + 1], chunk[mk + 2], chunk[mk + 3]);
      }
      const opcode = b0 & 15;
      pos = end;
      if (opcode === 8) {
        // close: reply with the same code and end
        socket.end(frame(0x88, chunk.subarray(start, Math.min(end, start + 2))));
        clients.delete(socket);
        return;
      }
      if (opcode === 10) continue;
      if (opcode === 9) {
        socket.write(frame(0x8a, chunk.subarray(start, end)));
        continue;
      }
      (out ??= []).push(b0 & 0x8f, start, end);
      outLen += (plen < 126 ? 2 : plen < 65536 ? 4 : 10) + plen;
    }
    if (pos < len) {
      pending = [pos === 0 ? chunk : chunk.subarray(pos)];
      pendingLen = len - pos;
    }
    if (out === null) return;
    // all reply frames of this read in one buffer, one write
    const reply = Buffer.allocUnsafe(outLen);
    let o = 0;
    for (let i = 0; i < out.length; i += 3) {
      const start = out[i + 1];
      const plen = out[i + 2] - start;
      reply[o] = out[i];
      if (plen < 126) {
        reply[o + 1] = plen;
        o += 2;
      } else if (plen < 65536) {
        reply[o + 1] = 126;
        reply.writeUInt16BE(plen, o + 2);
        o += 4;
      } else {
        reply[o + 1] = 127;
        reply.writeBigUInt64BE(BigInt(plen), o + 2);
        o += 10;
      }
      o += chunk.copy(reply, o, start, out[i + 2]);
    }
    if (broadcastMode) {
      // framed once: the same bytes (every message of this read) go to every socket, one write each
      for (const client of clients) client.write(reply);
    } else {
      socket.write(reply);
    }
  });
}

const server = net.createServer(onConnection);
server.listen(Number(args.port), args.host, 511, () => {
  const { port } = server.address();
  console.log(`listening on ws://${args.host}:${port}`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
