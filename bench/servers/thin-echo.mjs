// The thinnest correct-enough WebSocket server on node:net: the ceiling a JS library can approach.
//
// It parses the handshake minimally, computes the accept key, parses frames straight from the chunk,
// unmasks in place (32 bits at a time), builds the reply frames in place in the same chunk (no allocation,
// no copy beyond moving payloads over the client headers) and writes every reply frame produced by one read
// with ONE socket.write.
// Broadcast mode frames the messages of one read once and writes the same bytes to every socket (the sender
// included), one write per socket per read.
// No validation beyond what is needed: no UTF-8 checks, no limits, no fragmentation reassembly (data frames
// are echoed frame by frame with their opcode and FIN bit), no extensions.
//
// usage: node thin-echo.mjs [--host 127.0.0.1] [--port 0] [--mode echo|broadcast]
import net from 'node:net';
import os from 'node:os';
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

const LITTLE_ENDIAN = os.endianness() === 'LE';

/** RFC 6455 §5.3: unmask payload [start, end) in place with the 4 key bytes at `mk`; 32 bits at a time. */
function unmask(buf, start, end, mk) {
  const m0 = buf[mk];
  const m1 = buf[mk + 1];
  const m2 = buf[mk + 2];
  const m3 = buf[mk + 3];
  let i = start;
  if (LITTLE_ENDIAN && end - start >= 64) {
    for (; ((buf.byteOffset + i) & 3) !== 0; i++) {
      const k = (i - start) & 3;
      buf[i] ^= k === 0 ? m0 : k === 1 ? m1 : k === 2 ? m2 : m3;
    }
    const words = (end - i) >>> 2;
    const p = (i - start) & 3;
    const key = [m0, m1, m2, m3];
    const m = key[p] | (key[(p + 1) & 3] << 8) | (key[(p + 2) & 3] << 16) | (key[(p + 3) & 3] << 24);
    const u32 = new Uint32Array(buf.buffer, buf.byteOffset + i, words);
    for (let w = 0; w < words; w++) u32[w] ^= m;
    i += words << 2;
  }
  for (; i < end; i++) {
    const k = (i - start) & 3;
    buf[i] ^= k === 0 ? m0 : k === 1 ? m1 : k === 2 ? m2 : m3;
  }
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
    // Reply frames are built in place at the front of the chunk: a server header is at least 4 bytes shorter
    // than the client's (no mask key), so the reply never overtakes the parse position; no allocation.
    let o = 0;
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
      if (masked) unmask(chunk, start, end, start - 4);
      const opcode = b0 & 15;
      pos = end;
      if (opcode === 8) {
        // close: send what this read produced, reply with the same code and end
        if (o > 0) socket.write(chunk.subarray(0, o));
        socket.end(frame(0x88, chunk.subarray(start, Math.min(end, start + 2))));
        clients.delete(socket);
        return;
      }
      if (opcode === 10) continue;
      if (opcode === 9) {
        socket.write(frame(0x8a, chunk.subarray(start, end)));
        continue;
      }
      chunk[o] = b0 & 0x8f; // FIN, opcode; RSV cleared
      if (plen < 126) {
        chunk[o + 1] = plen;
        o += 2;
      } else if (plen < 65536) {
        chunk[o + 1] = 126;
        chunk.writeUInt16BE(plen, o + 2);
        o += 4;
      } else {
        chunk[o + 1] = 127;
        chunk.writeBigUInt64BE(BigInt(plen), o + 2);
        o += 10;
      }
      if (o !== start) chunk.copyWithin(o, start, end);
      o += plen;
    }
    if (pos < len) {
      pending = [pos === 0 ? chunk : chunk.subarray(pos)];
      pendingLen = len - pos;
    }
    if (o === 0) return;
    const reply = chunk.subarray(0, o); // every reply frame of this read: one write
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
