// loadgen: a single-threaded epoll WebSocket load generator (RFC 6455 client side).
//
// Built by bench/run.ts with `cc -O2 -o bench/bin/loadgen bench/loadgen.c`; no external libraries.
// It has to be several times faster than any Node server it drives, so the hot path avoids per-message
// syscalls: every client frame of a run is identical, so a connection's output queue is just a count of
// pending bytes over a pre-built buffer of repeated, pre-masked frames (one write() sends a whole batch),
// reads go into one large shared buffer, and server frames are parsed in place and never copied.
//
// Modes (see bench/README.md for the full story):
//   echo       C connections, K messages in flight each; messages/s, MiB/s, latency p50/p99.
//   connect    P concurrent connect + handshake + close(); handshakes/s.
//   idle       open N connections (optionally exchange one message each), print `READY <n>`, hold until a
//              line (or EOF) on stdin, SIGINT/SIGTERM or --hold seconds.
//   broadcast  N receivers + 1 publisher; the publisher keeps at most K messages not yet received by the
//              slowest receiver; deliveries/s counted on receivers only.
//
// Output: `MEASURE start` / `MEASURE end` lines around the measured window (so the caller can sample the
// server's CPU), then one JSON object on the last line of stdout. Errors go to stderr; exit status 1 when the
// run failed (the JSON then has "ok": false).

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum { M_ECHO, M_CONNECT, M_IDLE, M_BROADCAST };
static const char *const MODE_NAMES[] = {"echo", "connect", "idle", "broadcast"};
enum { ST_FREE, ST_HANDSHAKE, ST_OPEN, ST_CLOSED };
enum { R_ECHO, R_CONNECT, R_IDLE, R_RECV, R_PUB };
enum { PH_SETUP, PH_RUN, PH_HOLD };

#define HS_CAP 8192
#define RBUF_SIZE (256 * 1024)
#define MAX_HEADERS 16
#define MAX_PORTS 8

typedef struct conn {
  int fd;
  uint8_t state, role, hdrlen, need; // need: header size once hdrlen >= 2
  uint8_t op, fin, msgop, idle_done, rsv1, msgrsv1;
  uint8_t group;        // which of --ports this connection uses (latency is also kept per port)
  uint32_t events;      // current epoll registration
  uint32_t idx;
  char *hs;             // handshake response accumulator (only while handshaking)
  uint32_t hslen;
  const uint8_t *pbuf;  // arbitrary pending output (the request, the idle message)
  uint8_t *pown;        // pbuf when owned (freed when written)
  size_t plen, poff;
  uint64_t wpend;       // pending bytes of the repeated frame
  size_t wpos;          // position in the frame cycle (sent bytes mod frame length)
  uint64_t remaining;   // payload bytes left in the current server frame
  uint64_t framelen;    // payload length of the current server frame
  uint64_t msglen;      // payload bytes of the current message so far
  uint64_t sent, recvd; // messages
  uint64_t *ts;         // echo: send times, ring of K
  uint64_t t_start;     // connect() time
  uint8_t hdr[14];
} conn;

static struct {
  int mode;
  const char *host;
  int port;
  const char *path;
  int conns;
  size_t size;
  int binary;
  int inflight;
  double duration, warmup;
  int concurrency;
  int open_conc;
  int spread;
  const char *msg_hex;
  int rsv1;
  const char *headers[MAX_HEADERS];
  int nheaders;
  double hold;
  double setup_timeout;
  int delayed_ack;
  int ports[MAX_PORTS];
  int nports;
} O = {
    .mode = M_ECHO,
    .host = "127.0.0.1",
    .port = 0,
    .path = "/",
    .conns = -1,
    .size = 32,
    .binary = 0,
    .inflight = 1,
    .duration = 5,
    .warmup = 1,
    .concurrency = 50,
    .open_conc = 200,
    .spread = 250,
    .msg_hex = NULL,
    .rsv1 = 0,
    .nheaders = 0,
    .hold = 600,
    .setup_timeout = 120,
};

static int ep = -1;
static struct sockaddr_in server_addr[MAX_PORTS];
static conn *conns;
static int nconns;      // size of the conns array
static int started;     // connections started (setup phases)
static int opened;      // handshakes completed (setup phases)
static int inflight_hs; // handshakes in progress
static uint64_t seq;    // connections ever started (source address rotation, keys)
static int phase = PH_SETUP;
static volatile sig_atomic_t got_signal = 0;

static uint8_t *rbuf;
static uint8_t *rep;   // R copies of the client frame (echo, broadcast publisher)
static size_t rep_len, flen;
static uint8_t *msgframe; // idle: the one message each connection sends
static size_t msgframe_len;
static char *req_template;
static size_t req_len, req_key_off;

static int measuring = 0;
static uint64_t t_origin, t_run, t_meas, t_end;
static struct rusage ru_meas;

// counters
static uint64_t total_msgs, total_bytes, meas_msgs0, meas_bytes0;
static uint64_t handshakes, meas_hs0, errors, bad_messages, unexpected, ext_negotiated, lost, idle_echoed;
static uint64_t pings, idle_compressed;
static uint64_t pub_copies, deliveries, meas_deliv0, published, completed, meas_pub0;

// broadcast pacing ring
#define RING 8192
static uint32_t got[RING];
static uint64_t pub_ts[RING];
static conn *publisher;
static int receivers;

static uint64_t rng_state;
static uint64_t rng(void) {
  uint64_t x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// ---------------------------------------------------------------------------------------------------------
// Latency histogram, log-linear: exact below 128 ns, then 64 sub-buckets per power of two (< 1.6% error).

#define H_SUB 64
#define H_N (128 + 42 * H_SUB)
static uint64_t hist[H_N];
static uint64_t h_count, h_max, h_sum;

// With --ports: the same histogram per port (e.g. receivers on the publisher's server vs on another one).
typedef struct {
  uint64_t counts[H_N];
  uint64_t count, max, sum;
} group_hist;
static group_hist ghist[MAX_PORTS];

static inline unsigned hist_index(uint64_t v) {
  if (v < 128) return (unsigned)v;
  int e = 63 - __builtin_clzll(v); // >= 7
  int shift = e - 6;
  unsigned idx = 128 + (unsigned)(e - 7) * H_SUB + (unsigned)((v >> shift) - 64);
  return idx >= H_N ? H_N - 1 : idx;
}

static inline void group_add(unsigned g, uint64_t v) {
  group_hist *h = &ghist[g];
  h->counts[hist_index(v)]++;
  h->count++;
  h->sum += v;
  if (v > h->max) h->max = v;
}

static inline void hist_add(uint64_t v) {
  unsigned idx;
  if (v < 128) {
    idx = (unsigned)v;
  } else {
    int e = 63 - __builtin_clzll(v); // >= 7
    int shift = e - 6;
    idx = 128 + (unsigned)(e - 7) * H_SUB + (unsigned)((v >> shift) - 64);
    if (idx >= H_N) idx = H_N - 1;
  }
  hist[idx]++;
  h_count++;
  h_sum += v;
  if (v > h_max) h_max = v;
}

static double hist_mid(unsigned idx) {
  if (idx < 128) return idx;
  unsigned k = idx - 128;
  int e = (int)(k / H_SUB) + 7;
  int shift = e - 6;
  double lo = (double)((uint64_t)(64 + k % H_SUB) << shift);
  return lo + (double)(1ull << shift) / 2.0;
}

static double hist_pct(double p) {
  if (h_count == 0) return 0;
  double exact = p * (double)h_count;
  uint64_t target = (uint64_t)exact;
  if ((double)target < exact) target++;
  if (target < 1) target = 1;
  uint64_t cum = 0;
  for (unsigned i = 0; i < H_N; i++) {
    cum += hist[i];
    if (cum >= target) {
      double v = hist_mid(i);
      return v > (double)h_max ? (double)h_max : v;
    }
  }
  return (double)h_max;
}

static double group_pct(const group_hist *h, double p) {
  if (h->count == 0) return 0;
  double exact = p * (double)h->count;
  uint64_t target = (uint64_t)exact;
  if ((double)target < exact) target++;
  if (target < 1) target = 1;
  uint64_t cum = 0;
  for (unsigned i = 0; i < H_N; i++) {
    cum += h->counts[i];
    if (cum >= target) {
      double v = hist_mid(i);
      return v > (double)h->max ? (double)h->max : v;
    }
  }
  return (double)h->max;
}

// ---------------------------------------------------------------------------------------------------------
// Output

static void print_latency_by_port(void) {
  if (O.nports < 2) return;
  printf(",\"latency_by_port_us\":[");
  for (int g = 0; g < O.nports; g++) {
    const group_hist *h = &ghist[g];
    printf("%s{\"port\":%d,\"count\":%llu,\"mean\":%.1f,\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f}", g ? "," : "", O.ports[g],
           (unsigned long long)h->count, h->count ? (double)h->sum / (double)h->count / 1000.0 : 0.0,
           group_pct(h, 0.50) / 1000.0, group_pct(h, 0.99) / 1000.0, (double)h->max / 1000.0);
  }
  printf("]");
}

static void print_latency(void) {
  printf("\"latency_us\":{\"count\":%llu,\"mean\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,"
         "\"max\":%.1f}",
         (unsigned long long)h_count, h_count ? (double)h_sum / (double)h_count / 1000.0 : 0.0,
         hist_pct(0.50) / 1000.0, hist_pct(0.90) / 1000.0, hist_pct(0.99) / 1000.0, hist_pct(0.999) / 1000.0,
         (double)h_max / 1000.0);
}

static double rusage_s(const struct rusage *r) {
  return (double)r->ru_utime.tv_sec + (double)r->ru_utime.tv_usec / 1e6 + (double)r->ru_stime.tv_sec +
         (double)r->ru_stime.tv_usec / 1e6;
}

static void print_common_head(int ok, const char *error) {
  printf("{\"ok\":%s,\"mode\":\"%s\"", ok ? "true" : "false", MODE_NAMES[O.mode]);
  if (error) {
    printf(",\"error\":\"");
    for (const char *p = error; *p; p++) {
      if (*p == '"' || *p == '\\') putchar('\\');
      putchar(isprint((unsigned char)*p) ? *p : ' ');
    }
    putchar('"');
  }
  printf(",\"errors\":%llu", (unsigned long long)errors);
}

static void print_result(int ok, const char *error) {
  uint64_t now = now_ns();
  double window = measuring || t_end ? (double)((t_end ? t_end : now) - t_meas) / 1e9 : 0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = window > 0 ? (rusage_s(&ru) - rusage_s(&ru_meas)) / window : 0;
  double ucpu = window > 0 ? ((double)(ru.ru_utime.tv_sec - ru_meas.ru_utime.tv_sec) +
                              (double)(ru.ru_utime.tv_usec - ru_meas.ru_utime.tv_usec) / 1e6) / window
                           : 0;
  print_common_head(ok, error);
  switch (O.mode) {
  case M_ECHO: {
    uint64_t n = total_msgs - meas_msgs0, b = total_bytes - meas_bytes0;
    printf(",\"conns\":%d,\"size\":%zu,\"binary\":%s,\"inflight\":%d,\"duration_s\":%.3f,\"messages\":%llu,"
           "\"msgs_per_s\":%.1f,\"mib_per_s\":%.2f,\"bad_messages\":%llu,\"unexpected\":%llu,",
           O.conns, O.size, O.binary ? "true" : "false", O.inflight, window, (unsigned long long)n,
           window > 0 ? (double)n / window : 0, window > 0 ? (double)b / window / 1048576.0 : 0,
           (unsigned long long)bad_messages, (unsigned long long)unexpected);
    print_latency();
    print_latency_by_port();
    printf(",\"loadgen_cpu\":%.3f,\"loadgen_cpu_user\":%.3f", cpu, ucpu);
    break;
  }
  case M_CONNECT: {
    uint64_t n = handshakes - meas_hs0;
    printf(",\"concurrency\":%d,\"duration_s\":%.3f,\"handshakes\":%llu,\"handshakes_per_s\":%.1f,", O.concurrency,
           window, (unsigned long long)n, window > 0 ? (double)n / window : 0);
    print_latency();
    printf(",\"loadgen_cpu\":%.3f,\"loadgen_cpu_user\":%.3f", cpu, ucpu);
    break;
  }
  case M_IDLE:
    printf(",\"conns\":%d,\"opened\":%d,\"open_s\":%.3f,\"echoed\":%llu,\"echoed_compressed\":%llu,"
           "\"ext_negotiated\":%llu,\"lost\":%llu",
           O.conns, opened, t_run ? (double)(t_run - t_origin) / 1e9 : 0, (unsigned long long)idle_echoed,
           (unsigned long long)idle_compressed, (unsigned long long)ext_negotiated, (unsigned long long)lost);
    break;
  case M_BROADCAST: {
    uint64_t d = deliveries - meas_deliv0, p = published - meas_pub0;
    printf(",\"receivers\":%d,\"size\":%zu,\"binary\":%s,\"inflight\":%d,\"duration_s\":%.3f,\"published\":%llu,"
           "\"deliveries\":%llu,\"deliveries_per_s\":%.1f,\"publishes_per_s\":%.1f,\"publisher_copies\":%llu,"
           "\"bad_messages\":%llu,\"unexpected\":%llu,",
           receivers, O.size, O.binary ? "true" : "false", O.inflight, window, (unsigned long long)p,
           (unsigned long long)d, window > 0 ? (double)d / window : 0, window > 0 ? (double)p / window : 0,
           (unsigned long long)pub_copies, (unsigned long long)bad_messages, (unsigned long long)unexpected);
    print_latency();
    print_latency_by_port();
    printf(",\"loadgen_cpu\":%.3f,\"loadgen_cpu_user\":%.3f", cpu, ucpu);
    break;
  }
  }
  printf(",\"pings\":%llu}\n", (unsigned long long)pings);
  fflush(stdout);
}

static void fatal(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "loadgen: %s\n", msg);
  if (!t_end && measuring) t_end = now_ns();
  print_result(0, msg);
  exit(1);
}

// ---------------------------------------------------------------------------------------------------------
// Frames

static size_t build_frame(uint8_t *out, int opcode, int rsv1, const uint8_t *payload, size_t len) {
  size_t h = 0;
  out[h++] = (uint8_t)(0x80 | (rsv1 ? 0x40 : 0) | opcode);
  if (len < 126) {
    out[h++] = (uint8_t)(0x80 | len);
  } else if (len < 65536) {
    out[h++] = 0x80 | 126;
    out[h++] = (uint8_t)(len >> 8);
    out[h++] = (uint8_t)len;
  } else {
    out[h++] = 0x80 | 127;
    for (int i = 7; i >= 0; i--) out[h++] = (uint8_t)((uint64_t)len >> (8 * i));
  }
  // RFC 6455 §5.3: client frames are masked; the key is random per process (fixed within a run, so that one
  // pre-masked frame can be repeated; servers cannot tell and must unmask either way).
  uint8_t mask[4];
  uint64_t r = rng();
  for (int i = 0; i < 4; i++) mask[i] = (uint8_t)(r >> (8 * i)) | 1;
  memcpy(out + h, mask, 4);
  h += 4;
  for (size_t i = 0; i < len; i++) out[h + i] = payload[i] ^ mask[i & 3];
  return h + len;
}

static void build_rep(size_t size, int binary) {
  uint8_t *payload = malloc(size ? size : 1);
  for (size_t i = 0; i < size; i++) payload[i] = binary ? (uint8_t)(i * 31 + 7) : (uint8_t)('a' + i % 26);
  uint8_t *one = malloc(size + 14);
  flen = build_frame(one, binary ? 2 : 1, 0, payload, size);
  size_t r = (65536 + flen - 1) / flen; // one write can carry >= 64 KiB of frames
  if (r < 1) r = 1;
  rep_len = r * flen;
  rep = malloc(rep_len);
  for (size_t i = 0; i < r; i++) memcpy(rep + i * flen, one, flen);
  free(one);
  free(payload);
}

static void build_request(void) {
  // The key is filled per connection at req_key_off (24 base64 characters).
  char extra[4096] = "";
  size_t el = 0;
  for (int i = 0; i < O.nheaders; i++) {
    int n = snprintf(extra + el, sizeof extra - el, "%s\r\n", O.headers[i]);
    if (n < 0 || (size_t)n >= sizeof extra - el) {
      fprintf(stderr, "loadgen: headers too long\n");
      exit(2);
    }
    el += (size_t)n;
  }
  size_t cap = 512 + strlen(O.path) + strlen(O.host) + el;
  req_template = malloc(cap);
  int n = snprintf(req_template, cap,
                   "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: ",
                   O.path, O.host, O.port);
  req_key_off = (size_t)n;
  n += snprintf(req_template + n, cap - (size_t)n, "AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                extra);
  req_len = (size_t)n;
}

static void fill_key(char *out) {
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  uint8_t k[18];
  uint64_t a = rng(), b = rng(), c = rng();
  memcpy(k, &a, 8);
  memcpy(k + 8, &b, 8);
  memcpy(k + 16, &c, 2);
  for (int i = 0; i < 5; i++) { // 15 bytes -> 20 chars
    uint32_t v = (uint32_t)k[3 * i] << 16 | (uint32_t)k[3 * i + 1] << 8 | k[3 * i + 2];
    out[4 * i] = b64[v >> 18];
    out[4 * i + 1] = b64[(v >> 12) & 63];
    out[4 * i + 2] = b64[(v >> 6) & 63];
    out[4 * i + 3] = b64[v & 63];
  }
  uint32_t v = (uint32_t)k[15] << 16; // 16th byte -> 2 chars + "=="
  out[20] = b64[v >> 18];
  out[21] = b64[(v >> 12) & 48];
  out[22] = '=';
  out[23] = '=';
}

// ---------------------------------------------------------------------------------------------------------
// Connections

static void set_events(conn *c, uint32_t events) {
  if (c->events == events) return;
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) fatal("epoll_ctl MOD: %s", strerror(errno));
  c->events = events;
}

static void conn_release(conn *c) {
  if (c->state == ST_HANDSHAKE) inflight_hs--;
  if (c->fd >= 0) close(c->fd); // also removes it from the epoll set
  c->fd = -1;
  free(c->hs);
  c->hs = NULL;
  free(c->pown);
  c->pown = NULL;
  c->pbuf = NULL;
  c->plen = c->poff = 0;
}

static void start_connect(conn *c, uint64_t now);

static void conn_fail(conn *c, const char *what) {
  errors++;
  switch (O.mode) {
  case M_CONNECT:
    if (errors <= 5) fprintf(stderr, "loadgen: connection %u: %s\n", c->idx, what);
    conn_release(c);
    c->state = ST_FREE; // restarted by the main loop
    if (errors > 1000 && errors > handshakes / 10) fatal("too many connection errors (%llu)", (unsigned long long)errors);
    return;
  case M_IDLE:
    if (phase == PH_HOLD) {
      if (lost < 5) fprintf(stderr, "loadgen: connection %u: %s\n", c->idx, what);
      lost++;
      conn_release(c);
      c->state = ST_CLOSED;
      errors--; // a lost idle connection is reported as "lost"
      return;
    }
    fatal("connection %u failed during setup: %s", c->idx, what);
    return;
  default:
    fatal("connection %u: %s", c->idx, what);
  }
}

// Writes pending output: first pbuf (request, idle message), then the repeated frame. Returns -1 on error.
static int flush(conn *c) {
  while (c->poff < c->plen) {
    ssize_t w = write(c->fd, c->pbuf + c->poff, c->plen - c->poff);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) goto blocked;
      return -1;
    }
    c->poff += (size_t)w;
    if (c->poff < c->plen) goto blocked;
  }
  if (c->pbuf) {
    free(c->pown);
    c->pown = NULL;
    c->pbuf = NULL;
    c->plen = c->poff = 0;
  }
  while (c->wpend) {
    size_t len = rep_len - c->wpos;
    if (len > c->wpend) len = (size_t)c->wpend;
    ssize_t w = write(c->fd, rep + c->wpos, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) goto blocked;
      return -1;
    }
    c->wpend -= (uint64_t)w;
    c->wpos = (c->wpos + (size_t)w) % flen;
    if ((size_t)w < len) goto blocked;
  }
  if (!(c->events & EPOLLET) && (c->events & EPOLLOUT)) set_events(c, c->events & ~(uint32_t)EPOLLOUT);
  return 0;
blocked:
  // Level-triggered connections ask for EPOLLOUT only while blocked; edge-triggered ones always have it.
  if (!(c->events & EPOLLET) && !(c->events & EPOLLOUT)) set_events(c, c->events | EPOLLOUT);
  return 0;
}

static void start_connect(conn *c, uint64_t now) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fatal("socket: %s", strerror(errno));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (O.spread > 0) {
    // Spread source addresses over 127.0.0.1..250 so ephemeral ports never run out (the 4-tuple is unique
    // per source address); IP_BIND_ADDRESS_NO_PORT defers the port choice to connect().
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = 0};
    src.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)(1 + seq % (uint64_t)O.spread));
    if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) fatal("bind: %s", strerror(errno));
  }
  seq++;
  if (connect(fd, (struct sockaddr *)&server_addr[c->group], sizeof server_addr[0]) < 0 && errno != EINPROGRESS) {
    int e = errno;
    close(fd);
    c->fd = -1;
    c->state = ST_FREE;
    if (O.mode == M_CONNECT) {
      errors++;
      if (errors <= 5) fprintf(stderr, "loadgen: connect: %s\n", strerror(e));
      if (errors > 1000 && errors > handshakes / 10) fatal("too many connect errors: %s", strerror(e));
      // retried from the main loop (free slots are restarted there), so a refused port cannot spin here
      return;
    }
    fatal("connect: %s", strerror(e));
  }
  c->fd = fd;
  c->state = ST_HANDSHAKE;
  c->hdrlen = c->need = 0;
  c->remaining = c->msglen = 0;
  c->sent = c->recvd = 0;
  c->wpend = 0;
  c->wpos = 0;
  c->hslen = 0;
  c->idle_done = 0;
  c->t_start = now;
  c->pown = malloc(req_len);
  memcpy(c->pown, req_template, req_len);
  fill_key((char *)c->pown + req_key_off);
  c->pbuf = c->pown;
  c->plen = req_len;
  c->poff = 0;
  // Handshakes run edge-triggered with IN|OUT registered once: no epoll_ctl MOD per handshake.
  c->events = EPOLLIN | EPOLLOUT | EPOLLET;
  struct epoll_event ev = {.events = c->events, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) fatal("epoll_ctl ADD: %s", strerror(errno));
  inflight_hs++;
  // On loopback the connection is usually established by now; if not, write() says EAGAIN and the
  // EPOLLOUT edge of the completed connect retries it.
  if (flush(c) < 0) conn_fail(c, strerror(errno));
}

static void idle_maybe_ready(void);

// A complete message (final frame of a data message) arrived on c.
static inline void message_done(conn *c, uint64_t now) {
  switch (c->role) {
  case R_ECHO: {
    int expect_op = O.binary ? 2 : 1;
    if (c->msglen != O.size || c->msgop != expect_op) {
      bad_messages++;
      if (bad_messages <= 5)
        fprintf(stderr, "loadgen: connection %u: echo of %llu bytes opcode %d, expected %zu bytes opcode %d\n",
                c->idx, (unsigned long long)c->msglen, c->msgop, O.size, expect_op);
    }
    if (c->recvd >= c->sent) {
      unexpected++;
      return;
    }
    if (measuring) {
      hist_add(now - c->ts[c->recvd % (uint64_t)O.inflight]);
      if (O.nports > 1) group_add(c->group, now - c->ts[c->recvd % (uint64_t)O.inflight]);
    }
    c->recvd++;
    total_msgs++;
    total_bytes += c->msglen;
    // keep K in flight: one new message per echo (written by the caller, batched per read)
    c->ts[c->sent % (uint64_t)O.inflight] = now;
    c->sent++;
    c->wpend += flen;
    return;
  }
  case R_RECV: {
    if (c->msglen != O.size) bad_messages++;
    uint64_t j = c->recvd;
    if (j >= published) {
      unexpected++;
      return;
    }
    c->recvd++;
    got[j % RING]++;
    deliveries++;
    if (measuring) {
      hist_add(now - pub_ts[j % RING]);
      if (O.nports > 1) group_add(c->group, now - pub_ts[j % RING]);
    }
    return;
  }
  case R_PUB:
    pub_copies++;
    return;
  case R_IDLE:
    if (!c->idle_done && O.msg_hex) {
      c->idle_done = 1;
      idle_echoed++;
      if (c->msgrsv1) idle_compressed++;
      idle_maybe_ready();
    }
    return;
  default:
    return;
  }
}

static inline void frame_done(conn *c, uint64_t now, uint64_t len) {
  switch (c->op) {
  case 0x1:
  case 0x2:
    c->msgop = c->op;
    c->msgrsv1 = c->rsv1; // RFC 7692 §6: RSV1 on the first frame marks a compressed message
    c->msglen = len;
    if (c->fin) message_done(c, now);
    break;
  case 0x0:
    c->msglen += len;
    if (c->fin) message_done(c, now);
    break;
  case 0x8:
    conn_fail(c, "server sent a close frame");
    break;
  case 0x9:
  case 0xA:
    pings++;
    break;
  default:
    conn_fail(c, "server sent a frame with a reserved opcode");
    break;
  }
}


static inline size_t header_need(uint8_t b1) {
  size_t n = 2;
  if ((b1 & 127) == 126) n += 2;
  else if ((b1 & 127) == 127) n += 8;
  if (b1 & 0x80) n += 4;
  return n;
}

// Parses server frames straight from the read buffer; payloads are skipped, never copied.
// Returns -1 if the connection was failed or released (c must not be used for I/O any more).
static int feed(conn *c, const uint8_t *p, size_t n, uint64_t now) {
  while (n > 0) {
    if (c->remaining) {
      size_t take = c->remaining < n ? (size_t)c->remaining : n;
      c->remaining -= take;
      p += take;
      n -= take;
      if (c->remaining == 0) {
        frame_done(c, now, c->framelen);
        if (c->state != ST_OPEN) return -1;
      }
      continue;
    }
    const uint8_t *h;
    if (c->hdrlen == 0 && n >= 2 && n >= header_need(p[1])) {
      // fast path: the whole header is in this chunk
      h = p;
      size_t need = header_need(p[1]);
      p += need;
      n -= need;
    } else {
      // slow path: the header straddles reads; accumulate it (at most 14 bytes)
      if (c->hdrlen < 2) {
        c->hdr[c->hdrlen++] = *p++;
        n--;
        if (c->hdrlen < 2) continue;
        c->need = (uint8_t)header_need(c->hdr[1]);
      }
      size_t take = (size_t)(c->need - c->hdrlen);
      if (take > n) take = n;
      memcpy(c->hdr + c->hdrlen, p, take);
      c->hdrlen = (uint8_t)(c->hdrlen + take);
      p += take;
      n -= take;
      if (c->hdrlen < c->need) continue;
      h = c->hdr;
      c->hdrlen = 0;
    }
    c->fin = h[0] >> 7;
    c->rsv1 = (h[0] >> 6) & 1;
    c->op = h[0] & 15;
    // RFC 6455 §5.1: a server MUST NOT mask frames it sends to the client
    if (h[1] & 0x80) {
      conn_fail(c, "server sent a masked frame");
      return -1;
    }
    uint64_t len = h[1] & 127;
    if (len == 126) {
      len = (uint64_t)h[2] << 8 | h[3];
    } else if (len == 127) {
      len = 0;
      for (int i = 2; i < 10; i++) len = len << 8 | h[i];
    }
    c->framelen = len;
    if (len == 0) {
      frame_done(c, now, 0);
      if (c->state != ST_OPEN) return -1;
    } else {
      c->remaining = len;
    }
  }
  return 0;
}

static void data_read(conn *c, uint64_t now) {
  for (;;) {
    ssize_t r = read(c->fd, rbuf, RBUF_SIZE);
    if (r > 0) {
      if (feed(c, rbuf, (size_t)r, now) < 0) return;
      if (r == RBUF_SIZE && (c->events & EPOLLET)) continue; // edge-triggered: drain
      break;
    }
    if (r == 0) {
      conn_fail(c, "server closed the connection");
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    conn_fail(c, strerror(errno));
    return;
  }
  // echo: the replacements queued by this read go out in one write
  if (c->wpend && flush(c) < 0) conn_fail(c, strerror(errno));
}

static void idle_maybe_ready(void) {
  if (phase != PH_SETUP || opened < O.conns) return;
  if (O.msg_hex && idle_echoed < (uint64_t)O.conns) return;
  phase = PH_HOLD;
  t_run = now_ns();
  printf("READY %d\n", opened);
  fflush(stdout);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) < 0)
    fprintf(stderr, "loadgen: stdin cannot be watched (%s); holding until a signal or --hold\n", strerror(errno));
}

static void on_open(conn *c, uint64_t now) {
  inflight_hs--;
  c->state = ST_OPEN;
  switch (O.mode) {
  case M_CONNECT:
    // The connect workload closes the TCP connection (FIN, no close frame) as soon as the 101 has arrived.
    if (measuring) hist_add(now - c->t_start);
    handshakes++;
    conn_release(c);
    c->state = ST_FREE; // restarted by the main loop
    return;
  case M_ECHO:
  case M_BROADCAST:
    c->state = ST_OPEN;
    opened++;
    set_events(c, EPOLLIN); // level-triggered from now on; EPOLLOUT only while a write is blocked
    if (O.delayed_ack && c->role == R_RECV) {
      // Pure receivers never send, so Linux never enters its interactive (pingpong) mode and ACKs every
      // read at once; this asks for delayed ACKs instead (see README: broadcast pacing).
      int zero = 0;
      setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
    }
    return;
  case M_IDLE:
    c->state = ST_OPEN;
    opened++;
    if (O.msg_hex) {
      c->pbuf = msgframe;
      c->plen = msgframe_len;
      c->poff = 0;
      if (flush(c) < 0) {
        conn_fail(c, strerror(errno));
        return;
      }
    }
    idle_maybe_ready();
    return;
  }
}

static int contains_ci(const char *hay, size_t n, const char *needle) {
  size_t m = strlen(needle);
  for (size_t i = 0; i + m <= n; i++) {
    size_t j = 0;
    while (j < m && tolower((unsigned char)hay[i + j]) == needle[j]) j++;
    if (j == m) return 1;
  }
  return 0;
}

static void hs_read(conn *c, uint64_t now) {
  if (!c->hs) {
    c->hs = malloc(HS_CAP);
    c->hslen = 0;
  }
  for (;;) {
    size_t want = HS_CAP - c->hslen;
    ssize_t r = read(c->fd, c->hs + c->hslen, want);
    if (r == 0) {
      conn_fail(c, "server closed the connection during the handshake");
      return;
    }
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      conn_fail(c, strerror(errno));
      return;
    }
    c->hslen += (uint32_t)r;
    char *end = memmem(c->hs, c->hslen, "\r\n\r\n", 4);
    if (!end) {
      if (c->hslen == HS_CAP) {
        conn_fail(c, "handshake response headers too long");
        return;
      }
      continue;
    }
    size_t hlen = (size_t)(end - c->hs) + 4;
    if (c->hslen < 12 || memcmp(c->hs, "HTTP/1.", 7) != 0 || memcmp(c->hs + 8, " 101", 4) != 0) {
      char msg[160];
      size_t l = strcspn(c->hs, "\r\n");
      if (l > 100) l = 100;
      snprintf(msg, sizeof msg, "handshake refused: %.*s", (int)l, c->hs);
      conn_fail(c, msg);
      return;
    }
    if (contains_ci(c->hs, hlen, "permessage-deflate")) ext_negotiated++;
    int maybe_more = (size_t)r == want;
    size_t extra = c->hslen - hlen;
    char *hs = c->hs;
    c->hs = NULL;
    on_open(c, now);
    if (extra && c->state == ST_OPEN) {
      if (feed(c, (const uint8_t *)hs + hlen, extra, now) < 0) {
        free(hs);
        return;
      }
    }
    free(hs);
    if (maybe_more && c->state == ST_OPEN && (c->events & EPOLLET)) data_read(c, now);
    return;
  }
}

static void handle_event(conn *c, uint32_t ev, uint64_t now) {
  if (c->state == ST_HANDSHAKE) {
    if ((ev & EPOLLOUT) && c->poff < c->plen && flush(c) < 0) {
      conn_fail(c, strerror(errno));
      return;
    }
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) hs_read(c, now);
    return;
  }
  if (c->state == ST_OPEN) {
    if ((ev & EPOLLOUT) && flush(c) < 0) {
      conn_fail(c, strerror(errno));
      return;
    }
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) data_read(c, now);
  }
}

// Broadcast pacing: message i may be published once every receiver has received message i-K, i.e. at most
// K messages are ever outstanding at the slowest receiver. got[i % RING] counts receivers holding message i.
static void publish(uint64_t now) {
  while (completed < published && got[completed % RING] >= (uint32_t)receivers) {
    got[completed % RING] = 0;
    completed++;
  }
  uint64_t n = 0;
  while (published < completed + (uint64_t)O.inflight) {
    pub_ts[published % RING] = now;
    got[published % RING] = 0;
    published++;
    n++;
  }
  if (n) {
    publisher->wpend += n * flen;
    if (flush(publisher) < 0) conn_fail(publisher, strerror(errno));
  }
}

static void start_run(uint64_t now) {
  phase = PH_RUN;
  t_run = now;
  if (O.mode == M_ECHO) {
    for (int i = 0; i < nconns; i++) {
      conn *c = &conns[i];
      for (int k = 0; k < O.inflight; k++) c->ts[k] = now;
      c->sent = (uint64_t)O.inflight;
      c->wpend = (uint64_t)O.inflight * flen;
      if (flush(c) < 0) conn_fail(c, strerror(errno));
    }
  } else if (O.mode == M_BROADCAST) {
    publish(now);
  }
}

static void start_measure(uint64_t now) {
  measuring = 1;
  t_meas = now;
  getrusage(RUSAGE_SELF, &ru_meas);
  meas_msgs0 = total_msgs;
  meas_bytes0 = total_bytes;
  meas_hs0 = handshakes;
  meas_deliv0 = deliveries;
  meas_pub0 = published;
  printf("MEASURE start\n");
  fflush(stdout);
}

static int hexval(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  ch = tolower(ch);
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  return -1;
}

static void on_signal(int sig) {
  (void)sig;
  got_signal = 1;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: loadgen --mode echo|connect|idle|broadcast --port P [options]\n"
          "  --host H              server address (default 127.0.0.1)\n"
          "  --ports P1,P2,...     several ports of the host: connection i uses port i %% n (the broadcast\n"
          "                        publisher the first); latency is also reported per port\n"
          "  --path /p             request path (default /)\n"
          "  --conns N             echo: connections (100); idle: connections (19500); broadcast: receivers (1000)\n"
          "  --size S              message payload bytes (32)\n"
          "  --binary | --text     message type (text)\n"
          "  --inflight K          echo: messages in flight per connection; broadcast: messages outstanding at the\n"
          "                        slowest receiver (1)\n"
          "  --duration D          measured seconds (5)\n"
          "  --warmup W            seconds before measuring (1)\n"
          "  --concurrency P       connect: handshakes in flight (50)\n"
          "  --open-concurrency N  handshakes in flight while opening connections in setup (200)\n"
          "  --spread N            bind sources to 127.0.0.(1 + i %% N); 0 = no bind (250)\n"
          "  --msg-hex HEX         idle: each connection sends this payload once and waits for a reply frame\n"
          "  --rsv1                idle: set RSV1 on that message (permessage-deflate compressed)\n"
          "  --header 'N: v'       extra handshake request header (repeatable)\n"
          "  --hold S              idle: hold at most S seconds after READY (600)\n"
          "  --setup-timeout S     fail if connections are not open after S seconds (120)\n"
          "  --delayed-ack         broadcast: receivers ask for delayed ACKs (TCP_QUICKACK 0)\n");
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"mode", required_argument, 0, 'm'},       {"host", required_argument, 0, 'H'},
      {"port", required_argument, 0, 'p'},       {"path", required_argument, 0, 'P'},
      {"conns", required_argument, 0, 'c'},      {"size", required_argument, 0, 's'},
      {"binary", no_argument, 0, 'b'},           {"text", no_argument, 0, 't'},
      {"inflight", required_argument, 0, 'k'},   {"duration", required_argument, 0, 'd'},
      {"warmup", required_argument, 0, 'w'},     {"concurrency", required_argument, 0, 'C'},
      {"open-concurrency", required_argument, 0, 'o'}, {"spread", required_argument, 0, 'S'},
      {"msg-hex", required_argument, 0, 'x'},    {"rsv1", no_argument, 0, 'r'},
      {"header", required_argument, 0, 'h'},     {"hold", required_argument, 0, 'T'},
      {"setup-timeout", required_argument, 0, 'U'}, {"delayed-ack", no_argument, 0, 'D'}, {"help", no_argument, 0, 'y'},
      {"ports", required_argument, 0, 'Q'},
      {0, 0, 0, 0}};
  int ch;
  while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (ch) {
    case 'm':
      if (!strcmp(optarg, "echo")) O.mode = M_ECHO;
      else if (!strcmp(optarg, "connect")) O.mode = M_CONNECT;
      else if (!strcmp(optarg, "idle")) O.mode = M_IDLE;
      else if (!strcmp(optarg, "broadcast")) O.mode = M_BROADCAST;
      else {
        fprintf(stderr, "loadgen: unknown mode %s\n", optarg);
        return 2;
      }
      break;
    case 'H': O.host = optarg; break;
    case 'p': O.port = atoi(optarg); break;
    case 'P': O.path = optarg; break;
    case 'c': O.conns = atoi(optarg); break;
    case 's': O.size = (size_t)strtoull(optarg, NULL, 10); break;
    case 'b': O.binary = 1; break;
    case 't': O.binary = 0; break;
    case 'k': O.inflight = atoi(optarg); break;
    case 'd': O.duration = atof(optarg); break;
    case 'w': O.warmup = atof(optarg); break;
    case 'C': O.concurrency = atoi(optarg); break;
    case 'o': O.open_conc = atoi(optarg); break;
    case 'S': O.spread = atoi(optarg); break;
    case 'x': O.msg_hex = optarg; break;
    case 'r': O.rsv1 = 1; break;
    case 'h':
      if (O.nheaders == MAX_HEADERS) {
        fprintf(stderr, "loadgen: too many --header\n");
        return 2;
      }
      O.headers[O.nheaders++] = optarg;
      break;
    case 'T': O.hold = atof(optarg); break;
    case 'U': O.setup_timeout = atof(optarg); break;
    case 'D': O.delayed_ack = 1; break;
    case 'Q': {
      O.nports = 0;
      for (char *item = strtok(optarg, ","); item != NULL; item = strtok(NULL, ",")) {
        if (O.nports == MAX_PORTS) {
          fprintf(stderr, "loadgen: at most %d --ports\n", MAX_PORTS);
          return 2;
        }
        O.ports[O.nports++] = atoi(item);
      }
      if (O.nports > 0) O.port = O.ports[0];
      break;
    }
    case 'y': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (O.nports == 0) O.ports[O.nports++] = O.port;
  for (int i = 0; i < O.nports; i++)
    if (O.ports[i] <= 0 || O.ports[i] > 65535) {
      usage(stderr);
      return 2;
    }
  if (O.port <= 0 || O.port > 65535 || O.inflight < 1 || O.inflight > RING / 4 || O.duration <= 0 ||
      O.warmup < 0 || O.concurrency < 1 || O.open_conc < 1 || O.spread < 0 || O.spread > 254 ||
      O.size > (size_t)1 << 30) {
    usage(stderr);
    return 2;
  }
  if (O.conns < 0) O.conns = O.mode == M_IDLE ? 19500 : O.mode == M_BROADCAST ? 1000 : 100;
  if (O.conns < 1) {
    usage(stderr);
    return 2;
  }

  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; // no SA_RESTART: epoll_wait returns EINTR
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  getrlimit(RLIMIT_NOFILE, &rl);

  rng_state = now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ull;
  if (!rng_state) rng_state = 1;
  memset(server_addr, 0, sizeof server_addr);
  for (int i = 0; i < O.nports; i++) {
    server_addr[i].sin_family = AF_INET;
    server_addr[i].sin_port = htons((uint16_t)O.ports[i]);
    if (inet_pton(AF_INET, O.host, &server_addr[i].sin_addr) != 1) {
      fprintf(stderr, "loadgen: --host must be an IPv4 address\n");
      return 2;
    }
  }
  build_request();
  rbuf = malloc(RBUF_SIZE);
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) fatal("epoll_create1: %s", strerror(errno));

  int role = R_ECHO;
  switch (O.mode) {
  case M_ECHO:
    nconns = O.conns;
    role = R_ECHO;
    build_rep(O.size, O.binary);
    break;
  case M_CONNECT:
    nconns = O.concurrency;
    role = R_CONNECT;
    break;
  case M_IDLE:
    nconns = O.conns;
    role = R_IDLE;
    if (O.msg_hex) {
      size_t hl = strlen(O.msg_hex);
      if (hl % 2) fatal("--msg-hex needs an even number of hex digits");
      uint8_t *payload = malloc(hl / 2 + 1);
      for (size_t i = 0; i < hl / 2; i++) {
        int a = hexval(O.msg_hex[2 * i]), b = hexval(O.msg_hex[2 * i + 1]);
        if (a < 0 || b < 0) fatal("--msg-hex: not hex");
        payload[i] = (uint8_t)(a << 4 | b);
      }
      msgframe = malloc(hl / 2 + 14);
      msgframe_len = build_frame(msgframe, O.binary ? 2 : 1, O.rsv1, payload, hl / 2);
      free(payload);
    }
    break;
  case M_BROADCAST:
    receivers = O.conns;
    nconns = receivers + 1;
    build_rep(O.size, O.binary);
    break;
  }
  if ((rlim_t)nconns + 32 > rl.rlim_cur)
    fatal("open-file limit %llu is too low for %d connections", (unsigned long long)rl.rlim_cur, nconns);
  conns = calloc((size_t)nconns, sizeof(conn));
  for (int i = 0; i < nconns; i++) {
    conns[i].fd = -1;
    conns[i].idx = (uint32_t)i;
    conns[i].role = (uint8_t)role;
    conns[i].group = (uint8_t)(i % O.nports);
    if (O.mode == M_ECHO) conns[i].ts = calloc((size_t)O.inflight, sizeof(uint64_t));
  }
  if (O.mode == M_BROADCAST) {
    for (int i = 0; i < receivers; i++) conns[i].role = R_RECV;
    publisher = &conns[receivers];
    publisher->role = R_PUB;
    publisher->group = 0;
  }

  t_origin = now_ns();
  uint64_t warmup_ns = (uint64_t)(O.warmup * 1e9), duration_ns = (uint64_t)(O.duration * 1e9);
  uint64_t setup_ns = (uint64_t)(O.setup_timeout * 1e9), hold_ns = (uint64_t)(O.hold * 1e9);
  if (O.mode == M_CONNECT) {
    phase = PH_RUN;
    t_run = t_origin;
  }
  struct epoll_event evs[1024];
  for (;;) {
    uint64_t now = now_ns();
    if (got_signal && phase != PH_HOLD) fatal("interrupted");
    if (phase == PH_SETUP) {
      int target = O.mode == M_BROADCAST ? receivers : nconns; // the publisher connects last
      while (started < target && inflight_hs < O.open_conc) start_connect(&conns[started++], now);
      if (O.mode == M_BROADCAST && started == receivers && opened == receivers)
        start_connect(&conns[started++], now);
      if ((O.mode == M_ECHO || O.mode == M_BROADCAST) && opened == nconns) start_run(now);
      if (phase == PH_SETUP && now - t_origin > setup_ns)
        fatal("setup timed out: %d of %d connections open", opened, nconns);
    }
    if (O.mode == M_CONNECT) {
      for (int i = 0; i < nconns; i++)
        if (conns[i].state == ST_FREE) start_connect(&conns[i], now);
    }
    uint64_t deadline = now + 100000000ull; // wake at least every 100 ms
    if (phase == PH_RUN) {
      if (!measuring && now >= t_run + warmup_ns) start_measure(now);
      if (measuring && now >= t_meas + duration_ns) {
        t_end = now;
        printf("MEASURE end\n");
        int ok = errors == 0 && bad_messages == 0 && unexpected == 0;
        print_result(ok, ok ? NULL : "errors during the run (see stderr)");
        return ok ? 0 : 1;
      }
      uint64_t next = measuring ? t_meas + duration_ns : t_run + warmup_ns;
      if (next < deadline) deadline = next;
    }
    if (phase == PH_HOLD && (got_signal || now - t_run > hold_ns)) {
      int ok = lost == 0 && errors == 0;
      print_result(ok, ok ? NULL : "connections were lost while idle");
      return ok ? 0 : 1;
    }
    int timeout_ms = (int)((deadline - now + 999999) / 1000000);
    int n = epoll_wait(ep, evs, 1024, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      fatal("epoll_wait: %s", strerror(errno));
    }
    for (int i = 0; i < n; i++) {
      conn *c = evs[i].data.ptr;
      if (!c) { // stdin in idle HOLD: a line or EOF releases the connections
        char tmp[256];
        ssize_t r = read(0, tmp, sizeof tmp);
        if (r <= 0 || memchr(tmp, '\n', (size_t)r)) {
          int ok = lost == 0 && errors == 0;
          print_result(ok, ok ? NULL : "connections were lost while idle");
          return ok ? 0 : 1;
        }
        continue;
      }
      handle_event(c, evs[i].events, now_ns());
    }
    if (O.mode == M_BROADCAST && phase == PH_RUN) publish(now_ns());
  }
}
