/**
 * The page `wsforge serve` shows at `/` (and always at /_wsforge/): it connects back to the server
 * it came from (the URL and subprotocols are editable), sends text, UTF-8 or hex bytes or a file,
 * and logs every message with its time, and for an echo of one of ours, the round-trip time. It
 * shows the negotiated subprotocol and extensions, message counters, and the number of clients
 * connected to the server (a server-sent event stream, so WebSocket traffic stays the user's).
 * Element ids are stable: the browser interop test drives them.
 */

export interface DemoPageOptions {
  mode: 'echo' | 'broadcast';
  /** The subprotocols the server accepts: the page offers them by default. */
  protocols: readonly string[];
}

/** A small SVG icon, inline: the page needs no favicon request (and shows no 404). */
const ICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%232f6fde'/%3E%3Cpath d='M6 10l3.5 12L13 12l3 10 3-10 3.5 10L26 10' fill='none' stroke='white' stroke-width='2.6' stroke-linecap='round' stroke-linejoin='round'/%3E%3C/svg%3E";

/** A value for a script block: JSON with `<` escaped so no `</script>` can end the block. */
function scriptValue(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export function demoPage(options: DemoPageOptions): string {
  const { mode, protocols } = options;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wsforge demo</title>
<link rel="icon" href="${ICON}">
<style>
  :root {
    color-scheme: light dark;
    --accent: #2f6fde; --ok: #1a7f37; --bad: #b3261e; --muted: #6b7280;
    --bg: #f6f7f9; --card: #ffffff; --line: #e3e6ea; --text: #1f2328; --code: #f1f3f5;
  }
  @media (prefers-color-scheme: dark) {
    :root { --bg: #111418; --card: #1a1e24; --line: #2c323a; --text: #e6e8eb; --code: #22272e; --muted: #9aa3ad; --accent: #5b8ff0; --ok: #4cc26b; --bad: #f0706a; }
  }
  * { box-sizing: border-box; }
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--text); margin: 0; padding: 1.5rem 1rem 2rem; }
  main { max-width: 880px; margin: 0 auto; }
  header { display: flex; align-items: center; gap: .75rem; flex-wrap: wrap; margin-bottom: 1rem; }
  header img { width: 32px; height: 32px; }
  h1 { font-size: 1.35rem; margin: 0; }
  .pill { display: inline-flex; align-items: center; gap: .35rem; padding: .15rem .65rem; border-radius: 1rem; background: #8882; font-size: .85rem; font-weight: 600; white-space: nowrap; }
  .pill::before { content: ""; width: .5rem; height: .5rem; border-radius: 50%; background: var(--muted); }
  #status.open::before { background: var(--ok); }
  #status.closed::before { background: var(--bad); }
  #status.open { background: color-mix(in srgb, var(--ok) 18%, transparent); }
  #status.closed { background: color-mix(in srgb, var(--bad) 15%, transparent); }
  #mode-pill::before, #clients-pill::before { display: none; }
  .grow { flex: 1; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: .6rem; padding: .9rem 1rem; margin-bottom: .9rem; }
  .row { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
  .row + .row { margin-top: .6rem; }
  label.field { font-size: .8rem; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .03em; min-width: 5.5rem; }
  input[type=text], input:not([type]) { flex: 1; min-width: 8rem; padding: .45rem .6rem; font: inherit; border: 1px solid var(--line); border-radius: .4rem; background: var(--bg); color: inherit; }
  input.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9rem; }
  input.short { flex: 0 0 5.5rem; min-width: 0; }
  button, .file-button { padding: .45rem .9rem; font: inherit; font-weight: 500; border: 0; border-radius: .4rem; background: var(--accent); color: white; cursor: pointer; white-space: nowrap; }
  button.secondary, .file-button { background: color-mix(in srgb, var(--text) 12%, transparent); color: var(--text); }
  button:disabled, .file-button.disabled { opacity: .45; cursor: default; }
  #file { display: none; }
  .facts { display: grid; grid-template-columns: .9fr 1.7fr 1.3fr 1.3fr 1fr; gap: .5rem 1.2rem; font-size: .9rem; }
  @media (max-width: 700px) { .facts { grid-template-columns: 1fr 1fr; } }
  .facts .label { display: block; font-size: .72rem; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .03em; margin-bottom: .1rem; }
  .facts b { font-weight: 600; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; overflow-wrap: anywhere; }
  .log-head { display: flex; align-items: center; justify-content: space-between; margin-bottom: .5rem; }
  .log-head h2 { font-size: .8rem; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; margin: 0; }
  #log { list-style: none; padding: 0; margin: 0; border: 1px solid var(--line); border-radius: .4rem; min-height: 9rem; max-height: 55vh; overflow: auto; font: 13px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; background: var(--code); }
  #log:empty::after { content: "Messages you send and receive appear here."; display: block; padding: .8rem; color: var(--muted); font-family: system-ui, sans-serif; }
  #log li { display: flex; gap: .75rem; padding: .3rem .65rem; border-bottom: 1px solid var(--line); }
  #log li:last-child { border-bottom: 0; }
  #log .time { color: var(--muted); flex: 0 0 auto; }
  #log .text { flex: 1; white-space: pre-wrap; word-break: break-all; }
  #log .rtt { flex: 0 0 auto; color: var(--muted); }
  #log .rtt:not(:empty) { padding: 0 .4rem; border-radius: .6rem; background: color-mix(in srgb, var(--ok) 15%, transparent); color: var(--ok); }
  #log li.out .text { color: var(--accent); }
  #log li.in .text { color: var(--ok); }
  #log li.event .text { color: var(--muted); font-style: italic; }
  .hint { color: var(--muted); font-size: .85rem; margin: .5rem 0 0; }
</style>
</head>
<body>
<main>
<header>
  <img src="${ICON}" alt="">
  <h1>wsforge</h1>
  <span class="pill" id="mode-pill">mode: <b id="mode">${mode}</b></span>
  <span class="pill" id="clients-pill"><b id="clients">?</b>&nbsp;<span id="clients-label">clients connected</span></span>
  <span class="grow"></span>
  <span class="pill" id="status">connecting</span>
</header>

<section class="card">
  <form id="connect-form" class="row">
    <label class="field" for="url">URL</label>
    <input id="url" class="mono" autocomplete="off" spellcheck="false" aria-label="WebSocket URL">
    <input id="protocols" class="mono short" style="flex-basis: 9rem" autocomplete="off" spellcheck="false" placeholder="subprotocols" aria-label="subprotocols to offer, comma separated">
    <button id="connect" type="submit" disabled>Connect</button>
  </form>
  <div class="row">
    <label class="field" for="close-code">Close</label>
    <input id="close-code" class="short mono" value="1000" aria-label="close code">
    <input id="close-reason" placeholder="reason (optional)" aria-label="close reason">
    <button id="close" type="button" class="secondary" disabled>Close</button>
  </div>
</section>

<section class="card facts" aria-label="connection facts">
  <div><span class="label">Subprotocol</span><b id="negotiated-protocol">-</b></div>
  <div><span class="label">Extensions</span><b id="negotiated-extensions">-</b></div>
  <div><span class="label">Sent</span><b><span id="count-sent">0</span> <span id="count-sent-unit">messages</span>, <span id="bytes-sent">0</span> B</b></div>
  <div><span class="label">Received</span><b><span id="count-received">0</span> <span id="count-received-unit">messages</span>, <span id="bytes-received">0</span> B</b></div>
  <div><span class="label">Last round trip</span><b id="rtt-last">-</b></div>
</section>

<section class="card">
  <form id="send-form" class="row">
    <input id="message" autocomplete="off" placeholder="Type a message, or hex bytes such as de ad be ef" autofocus>
    <button id="send" type="submit" disabled>Send text</button>
  </form>
  <div class="row">
    <button id="send-binary" type="button" class="secondary" disabled title="the message's UTF-8 bytes as a binary message">Send as binary</button>
    <button id="send-hex" type="button" class="secondary" disabled title="the hex digits as bytes of a binary message">Send hex as binary</button>
    <label class="file-button disabled" id="file-label" for="file">Send a file&hellip;</label>
    <input id="file" type="file" disabled>
  </div>
  <p class="hint">${mode === 'echo' ? 'Echo mode: each message comes back with the same bytes and type; echoes of your messages show their round-trip time.' : 'Broadcast mode: every message goes to every connected client, this page included; open a second tab to see it.'}</p>
</section>

<section class="card">
  <div class="log-head"><h2>Messages</h2><button id="clear" type="button" class="secondary">Clear</button></div>
  <ul id="log"></ul>
</section>
</main>
<script>
(() => {
  const SERVER_PROTOCOLS = ${scriptValue(protocols)};
  const $ = (id) => document.getElementById(id);
  const pad = (n, width) => String(n).padStart(width, '0');
  const clock = () => {
    const d = new Date();
    return pad(d.getHours(), 2) + ':' + pad(d.getMinutes(), 2) + ':' + pad(d.getSeconds(), 2) + '.' + pad(d.getMilliseconds(), 3);
  };
  const log = (cls, text, rtt) => {
    const li = document.createElement('li');
    li.className = cls;
    for (const [part, value] of [['time', clock()], ['text', text], ['rtt', rtt ?? '']]) {
      const span = document.createElement('span');
      span.className = part;
      span.textContent = value;
      li.appendChild(span);
    }
    $('log').appendChild(li);
    li.scrollIntoView({ block: 'nearest' });
    return li;
  };
  const SHOWN_BYTES = 256;
  const hex = (bytes) => Array.from(bytes.subarray(0, SHOWN_BYTES), (b) => b.toString(16).padStart(2, '0')).join(' ') + (bytes.length > SHOWN_BYTES ? ' …' : '');
  const describe = (isBinary, data) => isBinary ? 'binary (' + data.length + ' bytes): ' + hex(data) : 'text: ' + data;

  // Round trips: what we sent and have not seen come back yet (matched by type and content).
  const pending = [];
  const MAX_PENDING = 1000;
  const keyOf = (isBinary, data) => isBinary ? 'b:' + Array.from(data, (b) => b.toString(16).padStart(2, '0')).join('') : 't:' + data;
  const counts = { sent: 0, bytesSent: 0, received: 0, bytesReceived: 0 };
  const encoder = new TextEncoder();
  const showCounts = () => {
    $('count-sent').textContent = counts.sent;
    $('count-sent-unit').textContent = counts.sent === 1 ? 'message' : 'messages';
    $('bytes-sent').textContent = counts.bytesSent;
    $('count-received').textContent = counts.received;
    $('count-received-unit').textContent = counts.received === 1 ? 'message' : 'messages';
    $('bytes-received').textContent = counts.bytesReceived;
  };

  let ws = null;
  const setStatus = (text, cls) => { $('status').textContent = text; $('status').className = 'pill ' + cls; };
  const setOpen = (open) => {
    for (const id of ['send', 'send-binary', 'send-hex', 'close', 'file']) $(id).disabled = !open;
    $('file-label').classList.toggle('disabled', !open);
    $('connect').disabled = open;
  };

  function open() {
    let socket;
    const offered = $('protocols').value.split(',').map((p) => p.trim()).filter((p) => p !== '');
    try {
      socket = new WebSocket($('url').value.trim(), offered);
    } catch (error) {
      log('event', 'cannot connect: ' + error.message);
      return;
    }
    ws = socket;
    pending.length = 0;
    ws.binaryType = 'arraybuffer';
    setStatus('connecting', '');
    $('connect').disabled = true;
    ws.onopen = () => {
      setStatus('open', 'open');
      setOpen(true);
      $('negotiated-protocol').textContent = ws.protocol || 'none';
      $('negotiated-extensions').textContent = ws.extensions || 'none';
      log('event', 'connected');
    };
    ws.onmessage = (event) => {
      const isBinary = typeof event.data !== 'string';
      const data = isBinary ? new Uint8Array(event.data) : event.data;
      counts.received++;
      counts.bytesReceived += isBinary ? data.length : encoder.encode(data).length;
      showCounts();
      const key = keyOf(isBinary, data);
      const index = pending.findIndex((p) => p.key === key);
      let rtt;
      if (index !== -1) {
        const ms = performance.now() - pending[index].at;
        pending.splice(index, 1);
        rtt = (ms < 10 ? ms.toFixed(2) : ms.toFixed(1)) + ' ms';
        $('rtt-last').textContent = rtt;
      }
      log('in', '< ' + describe(isBinary, data), rtt);
    };
    ws.onclose = (event) => {
      if (ws !== socket) return;
      setStatus('closed', 'closed');
      setOpen(false);
      log('event', 'closed: code ' + event.code + (event.reason ? ', reason "' + event.reason + '"' : '') + (event.wasClean ? ' (clean)' : ' (not clean)'));
    };
    ws.onerror = () => log('event', 'error');
  }

  function send(isBinary, data) {
    if (ws === null || ws.readyState !== WebSocket.OPEN) return;
    pending.push({ key: keyOf(isBinary, data), at: performance.now() });
    if (pending.length > MAX_PENDING) pending.shift();
    ws.send(data);
    counts.sent++;
    counts.bytesSent += isBinary ? data.length : encoder.encode(data).length;
    showCounts();
    log('out', '> ' + describe(isBinary, data));
  }

  $('send-form').addEventListener('submit', (event) => {
    event.preventDefault();
    send(false, $('message').value);
    $('message').value = '';
  });
  $('send-binary').addEventListener('click', () => {
    send(true, encoder.encode($('message').value));
    $('message').value = '';
  });
  $('send-hex').addEventListener('click', () => {
    const digits = $('message').value.replace(/0x/gi, '').replace(/[\\s,:]/g, '');
    if (digits.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(digits)) {
      log('event', 'not hex bytes: "' + $('message').value + '" (pairs of 0-9 a-f, spaces allowed)');
      return;
    }
    const bytes = new Uint8Array(digits.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
    send(true, bytes);
    $('message').value = '';
  });
  $('file').addEventListener('change', async () => {
    const file = $('file').files[0];
    $('file').value = '';
    if (file === undefined) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    log('event', 'file ' + file.name + ' (' + bytes.length + ' bytes)');
    send(true, bytes);
  });
  $('close').addEventListener('click', () => {
    const code = Number($('close-code').value);
    const reason = $('close-reason').value;
    try { ws.close(code, reason); log('event', 'closing with ' + code); }
    catch (error) { log('event', 'cannot close: ' + error.message); }
  });
  $('connect-form').addEventListener('submit', (event) => {
    event.preventDefault();
    open();
  });
  $('clear').addEventListener('click', () => { $('log').replaceChildren(); });

  // The server's client count, pushed on every change.
  const clients = new EventSource('/_wsforge/clients');
  clients.onmessage = (event) => {
    $('clients').textContent = event.data;
    $('clients-label').textContent = event.data === '1' ? 'client connected' : 'clients connected';
  };

  $('url').value = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/';
  $('protocols').value = SERVER_PROTOCOLS.join(', ');
  open();
})();
</script>
</body>
</html>
`;
}
