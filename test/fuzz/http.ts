// The HTTP fuzz: generated hostile requests, written as raw bytes over TCP to a real PushCam
// (`pushcam serve`, test pattern) in its own process: mutations of valid requests to every route,
// with the key in every place a key can be, and hand-made classes (huge URLs and headers, bad
// percent-encoding, NUL bytes, traversal, HTTP/0.9, TLS and HTTP/2 prefaces, pipelining, chunked
// garbage, absurd query values, requests split across writes). Broken promises: an answer of 5xx,
// the process ending, a stack trace in its log, a path of this machine or a file's contents in an
// answer, a route served without the key or refused with it, or a normal request from another
// address taking 100 ms or more after a batch.
//
// Deterministic: case I of seed S is always the same bytes, so a failure replays on its own:
//   node --import tsx test/fuzz/http.ts [--seed S] [--count N] [--case I]
// The server listens on 127.0.0.1; the cases come from 127.0.0.20-51 (one address per
// connection slot), the normal request from 127.0.0.1, so per-address limits hit the fuzz only.
import { request } from 'node:http';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../server/config/paths.js';
import { cookieNameFor } from '../../server/http/auth.js';
import { startServeChild, type ServeChild } from '../helpers/serve-child.js';
import { caseRandom, Picker } from './random.js';

export interface HttpFuzzOptions {
  seed: number;
  count: number;
  /** The first case's index (a replay of a stretch); default 0. */
  from?: number;
  /** A normal request is timed after every this many cases. */
  batch?: number;
}

export interface HttpFuzzReport {
  seed: number;
  cases: number;
  /** How many answers had each status; 'none' = closed or reset without one. */
  statuses: Record<string, number>;
  /** Cases the server kept open without an answer (a snapshot waiting for a frame, an incomplete request). */
  held: number;
  /** Streams the server started. */
  streams: number;
  /** The best of three normal requests after each batch, ms. */
  normalMs: number[];
  rssMB: { before: number; after: number };
  fds: { before: number; after: number };
  failures: string[];
}

export const FUZZ_KEY = 'fuzz-key-0123456789abcdef';
const NORMAL_MS = 100;
/** Connections at once; each from its own address. */
const SLOTS = 32;
const SLOT_ADDRESS = (slot: number): string => `127.0.0.${20 + slot}`;
/** How long an answer may pause before the case counts as answered. */
const QUIET_MS = 60;
/** How long a request without any answer is kept open before the fuzz half-closes it, and then waits. */
const HOLD_MS = 600;
const AFTER_FIN_MS = 300;
/** How long the server may take to close the fuzz's connections at the end, and how many more descriptors it may keep (its log, a timer). */
const SETTLE_MS = 3000;
const FD_SLACK = 2;
/** Bytes of the answers kept for the checks. */
const KEEP_BYTES = 256 * 1024;

// ---- the generator ----


interface Route {
  path: string;
  /** Needs the key (all but /healthz). */
  guarded: boolean;
}

/** Every route, with the query each takes; the page's own files too. */
const ROUTES: Route[] = [
  ...['/', '/?action=stream', '/?action=snapshot', '/stream.mjpg', '/stream.mjpg?compat=length&fps=5', '/stream.mjpg?viewer=fuzzpage01&compat=dual'].map((path) => ({ path, guarded: true })),
  ...['/snapshot.jpg', '/snapshot.jpg?after=0', '/snapshot.jpg?after=1&viewer=fuzzpage02', '/status.json', '/status.json?viewer=fuzzpage03&wait=200'].map((path) => ({ path, guarded: true })),
  ...['/index.html', '/viewer.js', '/viewer.css', '/viewer.js.map', '/key.html'].map((path) => ({ path, guarded: true })),
  { path: '/healthz', guarded: false },
];

/** Where a request carries its key: every place PushCam reads one, and some it does not. */
const KEY_PLACES = ['none', 'query', 'cookie', 'basic', 'link', 'spaced', 'path', 'twice', 'wrong-query', 'wrong-cookie', 'wrong-basic'] as const;
type KeyPlace = (typeof KEY_PLACES)[number];
/** The places where the right key, alone or first, must let a request through. */
const KEY_OPENS: readonly KeyPlace[] = ['query', 'cookie', 'basic', 'link', 'spaced', 'twice'];

const USER_AGENTS = [null, 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36', 'Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15', 'Lavf/60.16.100', 'curl/8.5.0'];

interface Request {
  method: string;
  target: string;
  headers: [string, string][];
  body: string;
}

function withQuery(path: string, param: string): string {
  return path + (path.includes('?') ? '&' : '?') + param;
}

/** The key with one letter changed: a different wrong key each time, as a guesser sends them (PushCam forgives the same wrong key again). */
function wrongKey(g: Picker): string {
  const at = g.int(FUZZ_KEY.length);
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~'.replace(FUZZ_KEY[at], '');
  return FUZZ_KEY.slice(0, at) + g.pick([...letters]) + FUZZ_KEY.slice(at + 1);
}

/** A valid request to a route with the key placed as told. */
function validRequest(g: Picker, port: number, route: Route, place: KeyPlace): Request {
  const headers: [string, string][] = [['Host', `127.0.0.1:${port}`]];
  const ua = g.pick(USER_AGENTS);
  if (ua) headers.push(['User-Agent', ua]);
  if (g.chance(0.3)) headers.push(['Sec-Fetch-Mode', g.pick(['navigate', 'no-cors', 'cors'])]);
  if (g.chance(0.1)) headers.push(['If-None-Match', `"${g.int(50)}"`]);
  let target = route.path;
  const basic = (key: string): string => `Basic ${Buffer.from(`${g.pick(['', 'viewer', 'x y'])}:${key}`).toString('base64')}`;
  const cookie = (key: string): string => `${g.chance(0.3) ? 'other=1; ' : ''}${cookieNameFor(port)}=${key}`;
  switch (place) {
    case 'query':
      target = withQuery(target, `key=${FUZZ_KEY}`);
      break;
    case 'cookie':
      headers.push(['Cookie', cookie(FUZZ_KEY)]);
      break;
    case 'basic':
      headers.push(['Authorization', basic(FUZZ_KEY)]);
      break;
    case 'link':
      target = withQuery(target, `key=${encodeURIComponent(`http://127.0.0.1:${port}/?key=${FUZZ_KEY}`)}`);
      break;
    case 'spaced':
      target = withQuery(target, `key=%20${FUZZ_KEY}%20`);
      break;
    case 'path':
      target = `/${FUZZ_KEY}${target}`;
      break;
    case 'twice':
      target = withQuery(target, `key=${FUZZ_KEY}`);
      headers.push(['Cookie', cookie(wrongKey(g))]);
      break;
    case 'wrong-query':
      target = withQuery(target, `key=${wrongKey(g)}`);
      break;
    case 'wrong-cookie':
      headers.push(['Cookie', cookie(wrongKey(g))]);
      break;
    case 'wrong-basic':
      headers.push(['Authorization', basic(wrongKey(g))]);
      break;
    case 'none':
      break;
  }
  return { method: g.chance(0.9) ? 'GET' : 'HEAD', target, headers, body: '' };
}

function serialize(r: Request, version = 'HTTP/1.1'): Buffer {
  const head = [`${r.method} ${r.target} ${version}`, ...r.headers.map(([n, v]) => `${n}: ${v}`)].join('\r\n');
  return Buffer.from(`${head}\r\n\r\n${r.body}`, 'latin1');
}

const INSERTS = ['\0', '\r', '\n', '\r\n', ' ', '\t', '%', '%00', '%zz', ':', '/', '?', '#', '&', '=', '..', '../', '\\', '\xff', '\x7f', 'é', '"', "'", '<script>', '\r\n\r\n', 'key=', '[]', '__proto__'];
const HOSTILE_HEADERS = [
  'Transfer-Encoding: chunked',
  'Content-Length: -1',
  'Content-Length: 99999999999999999999',
  'Content-Length: 5\r\nContent-Length: 6',
  'Host: evil.example',
  'Host: ',
  'Expect: 100-continue',
  'Upgrade: websocket\r\nConnection: Upgrade',
  'Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA',
  'Connection: keep-alive, close, upgrade',
  'Range: bytes=0-1,5-9,-1',
  'Authorization: Basic %%%%',
  'Authorization: Basic ' + 'A'.repeat(6000),
  'Authorization: Bearer x',
  'Cookie: ' + ';'.repeat(2000),
  'Cookie: =; ==; ===' ,
  'If-None-Match: ' + '"1",'.repeat(1000),
  'Sec-Fetch-Mode: navigate',
  'X-Forwarded-For: 10.0.0.1',
  'Accept-Encoding: gzip, br, ' + 'x,'.repeat(500),
  ' Folded: header',
  'Bad Header: x',
  'NoColon',
  ': empty-name',
];

/** Byte-level damage to a valid request: flips, insertions, cuts, repeats, LF for CRLF, hostile header lines. */
function mutate(g: Picker, bytes: Buffer): Buffer {
  let b = bytes;
  for (let n = 1 + g.int(3); n > 0; n--) {
    const at = g.int(b.length + 1);
    switch (g.int(8)) {
      case 0:
        b = Buffer.concat([b.subarray(0, at), Buffer.from([g.int(256)]), b.subarray(at + 1)]);
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(g.pick(INSERTS), 'latin1'), b.subarray(at)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + g.int(16))]);
        break;
      case 3: {
        const span = b.subarray(at, at + 1 + g.int(32));
        b = Buffer.concat([b.subarray(0, at), ...Array(1 + g.int(g.chance(0.1) ? 500 : 8)).fill(span), b.subarray(at)]);
        break;
      }
      case 4:
        b = b.subarray(0, at);
        break;
      case 5:
        b = Buffer.from(b.toString('latin1').replaceAll('\r\n', g.pick(['\n', '\r', '\n\r'])), 'latin1');
        break;
      default: {
        const line = b.indexOf('\r\n');
        const cut = line < 0 ? b.length : line + 2;
        b = Buffer.concat([b.subarray(0, cut), Buffer.from(`${g.pick(HOSTILE_HEADERS)}\r\n`, 'latin1'), b.subarray(cut)]);
      }
    }
  }
  return b;
}

/** One generated case: the bytes (written in this many pieces) and, for a valid request left whole, what its answer must be. */
export interface Case {
  chunks: Buffer[];
  describe: string;
  /** For an unmutated request: 'open' = must pass the key check, 'shut' = must be refused by it. */
  expect?: 'open' | 'shut';
}

const PERCENT = ['/%', '/%zz', '/%C0%AF', '/%E0%A4%A', '/%ff%fe', '/stream.mjpg%', '/%2Fstream.mjpg', '/snapshot.jpg?key=%', '/?key=%E0%A4%A', '/status.json?wait=%31%30%30', '/viewer.js%00', '/%u002e%u002e/', '/?action=%73tream', '/index.html?%=%&%%%'];
const TRAVERSAL = ['/../../../../etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/package.json', '/viewer.js/../../../package.json', '//etc/passwd', '/.git/config', '/..\\..\\package.json', '/....//....//etc/passwd', '/%252e%252e/%252e%252e/etc/passwd', '/./././viewer.css', '/.env', '/../server/pushcam.ts', '/%2e%2e%5c%2e%2e%5cpackage.json', '/viewer.js.map/..%2F..%2F..%2Fpackage.json'];
const ABSURD = [
  'wait=-1', 'wait=99999999999999999999', 'wait=1e9', 'wait=0x10', 'wait=10001', 'wait=', 'wait=NaN', 'wait[]=1', 'wait=1&wait=2',
  'after=-5', 'after=18446744073709551616', 'after=9007199254740993', 'after=abc', 'after[a]=1',
  'fps=0', 'fps=121', 'fps=1.5', 'fps=%00',
  'compat=__proto__', 'compat=constructor', 'compat=', 'compat[]=length',
  'viewer=short', `viewer=${'v'.repeat(65)}`, 'viewer=../../x', 'viewer=%00%00%00%00%00%00%00%00', 'viewer[__proto__]=x',
  'action=__proto__', 'action=toString', 'action=stream&action=snapshot', 'action=',
  'key[]=x', 'key[__proto__]=x', 'key=' + 'k'.repeat(5000), 'key=http://a/?key=http://b/?key=c', `key=%20%20%0a${FUZZ_KEY}`,
  '__proto__=1', 'constructor[prototype][x]=1', 'hasOwnProperty=1', '=&=&=', '&&&&', '%', '%%',
];
const METHODS = ['POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PATCH', 'PROPFIND', 'get', 'G ET', 'GET\0', 'M'.repeat(5000), 'PRI', 'ACL', 'SOURCE'];

function hugeUrl(g: Picker, port: number): Case {
  const size = g.pick([4000, 8000, 16_000, 17_000, 65_000, 1_000_000]);
  const filler = g.pick(['a', '/', '%41', '?x=1&', '..%2f']);
  return { chunks: [serialize({ method: 'GET', target: `/stream.mjpg?key=${FUZZ_KEY}&${filler.repeat(Math.ceil(size / filler.length))}`, headers: [['Host', `127.0.0.1:${port}`]], body: '' })], describe: `a URL of ${size} bytes` };
}

function hugeHeaders(g: Picker, port: number): Case {
  const host: [string, string] = ['Host', `127.0.0.1:${port}`];
  const kind = g.int(4);
  const headers: [string, string][] =
    kind === 0 ? [host, ['X-Big', 'x'.repeat(g.pick([8000, 16_500, 100_000]))]]
    : kind === 1 ? [host, ...Array.from({ length: g.pick([101, 500, 3000]) }, (_, i): [string, string] => [`X-H${i}`, 'y'])]
    : kind === 2 ? [host, ['Cookie', `${cookieNameFor(port)}=${FUZZ_KEY}; ${'c=1; '.repeat(g.pick([1000, 4000]))}`]]
    : [host, ...Array.from({ length: 300 }, (): [string, string] => ['Cookie', `${cookieNameFor(port)}=${wrongKey(g)}`])];
  return { chunks: [serialize({ method: 'GET', target: `/snapshot.jpg?key=${FUZZ_KEY}`, headers, body: '' })], describe: `huge headers (kind ${kind})` };
}

function rawTarget(g: Picker, port: number, targets: readonly string[], what: string): Case {
  const target = g.pick(targets);
  const keyed = g.chance(0.5) ? withQuery(target, `key=${FUZZ_KEY}`) : target;
  return { chunks: [serialize({ method: 'GET', target: keyed, headers: [['Host', `127.0.0.1:${port}`]], body: '' })], describe: `${what} ${keyed}` };
}

function nulBytes(g: Picker, port: number): Case {
  const where = g.int(5);
  const r = validRequest(g, port, g.pick(ROUTES), 'query');
  if (where === 0) r.target = r.target.replace('/', '/\0');
  else if (where === 1) r.target = withQuery(r.target, 'x=\0');
  else if (where === 2) r.headers.push(['X-Nul', 'a\0b']);
  else if (where === 3) r.headers.push(['X\0Nul', 'a']);
  else r.target = r.target.replace(FUZZ_KEY, `${FUZZ_KEY}\0`);
  return { chunks: [serialize(r)], describe: `a NUL byte (place ${where})` };
}

function http09(g: Picker): Case {
  const text = g.pick(['GET /\r\n', 'GET /stream.mjpg\r\n\r\n', 'GET\r\n\r\n', `GET /snapshot.jpg?key=${FUZZ_KEY}\n\n`, 'GET / HTTP/0.9\r\n\r\n', 'GET / HTTP/1.2\r\n\r\n', 'GET / HTTP/2.0\r\n\r\n', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n', 'GET / FTP/1.0\r\n\r\n', 'GET / http/1.1\r\n\r\n']);
  return { chunks: [Buffer.from(text, 'latin1')], describe: `an old or unknown HTTP version: ${JSON.stringify(text)}` };
}

function tlsOrH2(g: Picker): Case {
  const random = Buffer.from(Array.from({ length: 32 }, () => g.int(256)));
  const hello = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]), random, Buffer.alloc(130, 0x13)]);
  const sslv2 = Buffer.from([0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10, ...random.subarray(0, 16)]);
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
  const settings = Buffer.from([0, 0, 12, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100, 0, 4, 0, 0xff, 0xff, 0xff]);
  const kind = g.int(4);
  const chunks = kind === 0 ? [hello] : kind === 1 ? [sslv2] : kind === 2 ? [preface, settings] : [Buffer.concat([preface, settings, random])];
  return { chunks, describe: ['a TLS ClientHello', 'an SSLv2 hello', 'the HTTP/2 preface and SETTINGS', 'the HTTP/2 preface in one write with garbage'][kind] };
}

function pipelined(g: Picker, port: number): Case {
  const n = 2 + g.int(g.chance(0.2) ? 60 : 8);
  const parts = Array.from({ length: n }, () => {
    const one = serialize(validRequest(g, port, g.pick(ROUTES), g.pick(KEY_PLACES)));
    return g.chance(0.2) ? mutate(g, one) : one;
  });
  return { chunks: [Buffer.concat(parts)], describe: `${n} pipelined requests` };
}

function chunkedGarbage(g: Picker, port: number): Case {
  const bodies = ['zz\r\nhello\r\n0\r\n\r\n', 'ffffffffffffffff\r\nx\r\n', '5;' + 'e'.repeat(20_000) + '\r\nhello\r\n0\r\n\r\n', '-1\r\n\r\n', '5\r\nhel', '0\r\nTrailer: ' + 'x'.repeat(20_000) + '\r\n\r\n', '3\r\nabcdef\r\n0\r\n\r\n', '0\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n', '\r\n\r\n\r\n', '1\n1\n0\n\n'];
  const te = g.pick(['chunked', 'chunked, identity', 'identity, chunked', 'CHUNKED', ' chunked', 'chunked\r\nTransfer-Encoding: chunked', 'gzip, chunked', 'xchunked']);
  const extra = g.chance(0.3) ? `Content-Length: ${g.pick(['0', '3', '100', '-1'])}\r\n` : '';
  const text = `${g.pick(['POST', 'GET', 'PUT'])} ${withQuery(g.pick(ROUTES).path, `key=${FUZZ_KEY}`)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nTransfer-Encoding: ${te}\r\n${extra}\r\n${g.pick(bodies)}`;
  return { chunks: [Buffer.from(text, 'latin1')], describe: `chunked garbage (Transfer-Encoding: ${te.split('\r')[0]})` };
}

function absurdQuery(g: Picker, port: number): Case {
  const route = g.pick(ROUTES.filter((r) => r.guarded));
  const params = g.chance(0.1) ? Array.from({ length: 3000 }, (_, i) => `p${i}=${i}`).join('&') : Array.from({ length: 1 + g.int(3) }, () => g.pick(ABSURD)).join('&');
  const r = validRequest(g, port, { ...route, path: withQuery(route.path, params) }, g.pick(['query', 'cookie', 'basic'] as const));
  return { chunks: [serialize(r)], describe: `absurd query ${r.target.slice(0, 120)}` };
}

function oddMethod(g: Picker, port: number): Case {
  const r = validRequest(g, port, g.pick(ROUTES), 'query');
  r.method = g.pick(METHODS);
  if (g.chance(0.5) && /^[A-Z]+$/.test(r.method)) {
    r.body = 'x'.repeat(g.pick([0, 10, 70_000]));
    r.headers.push(['Content-Length', String(r.body.length)]);
  }
  return { chunks: [serialize(r)], describe: `method ${r.method.slice(0, 20)} ${r.target}` };
}

/** A valid request written in pieces (byte by byte for some), so the parser meets every boundary. */
function splitWrites(g: Picker, port: number): Case {
  const bytes = serialize(validRequest(g, port, g.pick(ROUTES), g.pick(KEY_OPENS)));
  const pieces = g.chance(0.2) ? bytes.length : 2 + g.int(5);
  const cuts = [...new Set(Array.from({ length: pieces - 1 }, () => 1 + g.int(bytes.length - 1)))].sort((a, b) => a - b);
  const chunks = [0, ...cuts].map((from, i) => bytes.subarray(from, cuts[i] ?? bytes.length));
  return { chunks, describe: `a valid request in ${chunks.length} writes` };
}

function noise(g: Picker): Case {
  const kind = g.int(4);
  const bytes =
    kind === 0 ? Buffer.from(Array.from({ length: 1 + g.int(4000) }, () => g.int(256)))
    : kind === 1 ? Buffer.from('\r\n'.repeat(1 + g.int(5000)), 'latin1')
    : kind === 2 ? Buffer.alloc(0)
    : Buffer.alloc(1 + g.int(100_000), 0);
  return { chunks: [bytes], describe: ['random bytes', 'only line ends', 'nothing at all', 'NUL bytes only'][kind] };
}

const HAND_MADE = [hugeUrl, hugeHeaders, (g: Picker, p: number) => rawTarget(g, p, PERCENT, 'bad percent-encoding'), nulBytes, (g: Picker, p: number) => rawTarget(g, p, TRAVERSAL, 'traversal'), http09, tlsOrH2, pipelined, chunkedGarbage, absurdQuery, absurdQuery, oddMethod, splitWrites, noise];

/** Case `index` of `seed`: a third valid requests left whole (the key check is judged), a third mutated, a third hand-made. */
export function generateCase(seed: number, index: number, port: number): Case {
  const g = new Picker(caseRandom(seed, index));
  const kind = g.int(3);
  if (kind === 2) return g.pick(HAND_MADE)(g, port);
  const route = g.pick(ROUTES);
  const place = g.pick(KEY_PLACES);
  const valid = validRequest(g, port, route, place);
  const describe = `${valid.method} ${route.path} key:${place}`;
  if (kind === 1) return { chunks: [mutate(g, serialize(valid))], describe: `mutated ${describe}` };
  // A key in the path makes it another path, which needs the key like every path but /healthz.
  const open = place === 'path' ? false : !route.guarded || KEY_OPENS.includes(place);
  return { chunks: [serialize(valid)], describe, expect: open ? 'open' : 'shut' };
}

// ---- one exchange over a raw socket ----

interface Exchange {
  /** The statuses of every answer, in order. */
  statuses: number[];
  text: string;
  /** Kept open by the server with nothing said. */
  held: boolean;
  stream: boolean;
}

function exchange(port: number, localAddress: string, chunks: Buffer[]): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let quiet: NodeJS.Timeout | undefined;
    let hold: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (held: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(quiet);
      clearTimeout(hold);
      socket.destroy();
      const text = Buffer.concat(kept).toString('latin1');
      const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
      resolve({ statuses, text, held: held && statuses.length === 0, stream: /content-type: multipart\/x-mixed-replace/i.test(text) });
    };
    socket.on('error', () => undefined);
    socket.on('close', () => finish(false));
    socket.on('data', (data: Buffer) => {
      if (keptBytes < KEEP_BYTES) {
        kept.push(data);
        keptBytes += data.length;
      }
      clearTimeout(hold);
      clearTimeout(quiet);
      // A stream never ends by itself: its head is the answer.
      if (/\r\n\r\n/.test(data.toString('latin1')) && /content-type: multipart\/x-mixed-replace/i.test(Buffer.concat(kept).toString('latin1'))) return finish(true);
      quiet = setTimeout(() => finish(false), QUIET_MS);
    });
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (chunks.length > 1) await new Promise((r) => setImmediate(r));
      }
      // Nothing said at all: half-close, which makes the server answer an incomplete request or end.
      hold = setTimeout(() => {
        socket.end();
        hold = setTimeout(() => finish(true), AFTER_FIN_MS);
      }, HOLD_MS);
    });
  });
}

// ---- the checks ----

/** What no answer may hold: this machine's paths, a stack trace, a file from outside the page's folder. */
const LEAKS: [RegExp, string][] = [
  [new RegExp(packageRoot().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), "PushCam's folder"],
  [/node_modules/, 'node_modules'],
  [/\n\s+at .+:\d+:\d+/, 'a stack trace'],
  [/root:x?:0:0/, '/etc/passwd'],
  [/"devDependencies"/, 'package.json'],
];

function wrongAnswer(c: Case, x: Exchange): string | null {
  const fivexx = x.statuses.filter((s) => s >= 500);
  if (fivexx.length > 0) return `answered ${fivexx.join(', ')}: ${x.text.slice(0, 200).replace(/\r\n/g, ' | ')}`;
  const leak = LEAKS.find(([pattern]) => pattern.test(x.text));
  if (leak) return `an answer shows ${leak[1]}`;
  const first = x.statuses[0];
  if (c.expect === 'shut' && first !== undefined && first < 400) return `served without the key (${first})`;
  if (c.expect === 'open' && (first === 401 || (first === undefined && !x.held))) return `refused with the key (${first ?? 'closed'})`;
  return null;
}

/** A stack trace or a failure in the server's log is a bug; an expected refusal is one line. */
function logProblem(line: string): boolean {
  return /failed:|Error:|^\s+at /.test(line);
}

/** GET /status.json with the key from 127.0.0.1 on a new connection: the best of three, ms. */
async function normalRequest(server: ServeChild): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 3 && best >= NORMAL_MS; i++) {
    const started = performance.now();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.origin}/status.json?key=${FUZZ_KEY}`, { agent: false, localAddress: '127.0.0.1' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.setTimeout(5000, () => req.destroy(new Error('no answer within 5 s')));
      req.on('error', reject);
      req.end();
    });
    if (status !== 200) throw new Error(`a normal request answered ${status}`);
    best = Math.min(best, performance.now() - started);
  }
  return Math.round(best * 10) / 10;
}

// ---- the run ----

/** The server the fuzz runs against: the pattern, small, with room for the streams the cases open. */
export function startFuzzServer(): Promise<ServeChild> {
  return startServeChild(['--source', 'pattern', '--size', '160x120', '--interval', '50', '--key', FUZZ_KEY, '--max-viewers', '10000']);
}

export async function fuzzHttp(o: HttpFuzzOptions, given?: ServeChild): Promise<HttpFuzzReport> {
  const server = given ?? (await startFuzzServer());
  const batch = o.batch ?? 250;
  const from = o.from ?? 0;
  const report: HttpFuzzReport = {
    ...{ seed: o.seed, cases: 0, statuses: {}, held: 0, streams: 0, normalMs: [], failures: [] },
    rssMB: { before: Math.round(server.rssMB()), after: 0 },
    fds: { before: server.fds(), after: 0 },
  };
  const replay = (i: number): string => `--seed ${o.seed} --case ${i}`;
  let logSeen = server.errors.length;
  try {
    for (let start = from; start < from + o.count; start += batch) {
      const end = Math.min(start + batch, from + o.count);
      let nextIndex = start;
      const slot = async (s: number): Promise<void> => {
        while (nextIndex < end) {
          const index = nextIndex++;
          const c = generateCase(o.seed, index, server.port);
          const x = await exchange(server.port, SLOT_ADDRESS(s), c.chunks);
          report.cases++;
          for (const status of x.statuses.length > 0 ? x.statuses : ['none']) report.statuses[status] = (report.statuses[status] ?? 0) + 1;
          if (x.held) report.held++;
          if (x.stream) report.streams++;
          const wrong = wrongAnswer(c, x);
          if (wrong) report.failures.push(`${replay(index)}: ${wrong}; sent ${c.describe}`);
        }
      };
      await Promise.all(Array.from({ length: SLOTS }, (_, s) => slot(s)));
      const stretch = `one of cases ${start}-${end - 1} (replay with --seed ${o.seed} --from ${start} --count ${end - start})`;
      if (server.ended() !== null) {
        report.failures.push(`PushCam ended (${server.ended()}) during ${stretch}`);
        break;
      }
      for (const line of server.errors.slice(logSeen).filter(logProblem)) report.failures.push(`the log shows a failure after ${stretch}: ${line}`);
      logSeen = server.errors.length;
      try {
        report.normalMs.push(await normalRequest(server));
      } catch (err) {
        report.failures.push(`after ${stretch}: ${(err as Error).message}`);
      }
    }
    // The fuzz's connections are gone: the server's descriptors should be too, once it has seen them close.
    const settled = performance.now() + SETTLE_MS;
    while (server.fds() > report.fds.before + FD_SLACK && performance.now() < settled) await new Promise((r) => setTimeout(r, 100));
    report.rssMB.after = Math.round(server.rssMB());
    report.fds.after = server.fds();
    if (report.fds.after > report.fds.before + FD_SLACK) report.failures.push(`descriptors ${report.fds.before} -> ${report.fds.after}: the run left some open (replay stretches with --from and --count to find which)`);
  } finally {
    if (!given) await server.stop();
  }
  const slow = report.normalMs.filter((ms) => ms >= NORMAL_MS);
  if (slow.length > 0) report.failures.push(`a normal request took ${slow.join(', ')} ms after a batch (limit ${NORMAL_MS} ms)`);
  return report;
}

export function summary(r: HttpFuzzReport): string {
  const ms = [...r.normalMs].sort((a, b) => a - b);
  const statuses = Object.entries(r.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s}:${n}`)
    .join(' ');
  return (
    `HTTP fuzz, seed ${r.seed}: ${r.cases} cases; answers ${statuses}; ${r.streams} streams, ${r.held} held open unanswered; ` +
    `normal request after each batch ${ms[0] ?? 0}-${ms[ms.length - 1] ?? 0} ms; RSS ${r.rssMB.before} -> ${r.rssMB.after} MB, descriptors ${r.fds.before} -> ${r.fds.after}; ${r.failures.length} failures`
  );
}

/** Prints case `index`'s bytes and the server's answer. */
async function replayCase(seed: number, index: number): Promise<void> {
  const server = await startFuzzServer();
  try {
    const c = generateCase(seed, index, server.port);
    const x = await exchange(server.port, SLOT_ADDRESS(0), c.chunks);
    console.log(`case ${index} of seed ${seed}: ${c.describe}`);
    console.log(`sent (${c.chunks.length} writes): ${JSON.stringify(Buffer.concat(c.chunks).toString('latin1').slice(0, 2000))}`);
    console.log(`answer${x.held ? ' (held open)' : ''}: ${JSON.stringify(x.text.slice(0, 2000))}`);
    const wrong = wrongAnswer(c, x) ?? (server.ended() ? `PushCam ended (${server.ended()})` : null);
    console.log(wrong ? `FAIL ${wrong}` : 'ok');
    for (const line of server.errors.filter(logProblem)) console.log(`  log: ${line}`);
    process.exitCode = wrong ? 1 : 0;
  } finally {
    await server.stop();
  }
}

export function numberOption(argv: string[], name: string): number | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const value = Number(argv[i + 1]);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} needs a whole number, not "${argv[i + 1] ?? ''}"`);
  return value;
}

async function main(argv: string[]): Promise<void> {
  const seed = numberOption(argv, '--seed') ?? Date.now() % 1_000_000;
  const only = numberOption(argv, '--case');
  if (only !== undefined) return replayCase(seed, only);
  const report = await fuzzHttp({ seed, count: numberOption(argv, '--count') ?? 5000, from: numberOption(argv, '--from') });
  console.log(summary(report));
  for (const failure of report.failures) console.log(`  FAIL ${failure}`);
  process.exitCode = report.failures.length > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) void main(process.argv.slice(2));
