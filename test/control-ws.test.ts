import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import WebSocket from 'ws';
import { type CallName } from '../shared/contract.js';
import { FRAME_ACK, FRAME_HEADER_BYTES, WIRE_FORMAT } from '../shared/frame-format.js';
import { ControlService } from '../server/control/service.js';
import { type ControlServer, startControlServer } from '../server/control/ws-server.js';
import { connectControl } from '../renderer/common/ws-client.js';
import { contractCases } from './helpers/contract-cases.js';
import { eventually } from './helpers/server.js';
import { solidJpeg, tempDir } from './helpers/fixtures.js';

interface Rig {
  service: ControlService;
  control: ControlServer;
  close(): Promise<void>;
}

async function makeRig(): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'pushcam-ws-'));
  const service = await ControlService.create({ settingsFile: join(dir, 'settings.json'), configDir: dir, captureInWindow: true, log: () => {} });
  // A free port, not the default 8080 that a test in another file may hold at the same time.
  await service.updateSettings({ port: 0 });
  const control = await startControlServer(service, { log: () => {} });
  const close = async (): Promise<void> => {
    await control.close();
    await service.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { service, control, close };
}

async function makeControl(t: TestContext): Promise<Rig> {
  const rig = await makeRig();
  t.after(rig.close);
  return rig;
}

/** The browser client (renderer/common/ws-client.ts) over the `ws` package's WebSocket. */
function wsClient(control: ControlServer): ReturnType<typeof connectControl> {
  return connectControl(`ws://127.0.0.1:${control.port}/control?token=${control.token}`, WebSocket as never);
}

contractCases(
  async () => {
    const rig = await makeRig();
    return { client: await wsClient(rig.control), close: rig.close };
  },
  { prefix: 'contract over the loopback WebSocket' },
);

/** Tries a WebSocket upgrade; resolves with 'open' or the HTTP status it was refused with. */
function upgrade(url: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
    ws.on('error', (err) => resolve(`error: ${err.message}`));
  });
}

function get(port: number, path: string, host: string): Promise<{ status: number; csp: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, csp: String(res.headers['content-security-policy'] ?? '') });
    })
      .on('error', reject)
      .end();
  });
}

test('the control server listens on loopback only and prints a panel URL with its token', async (t) => {
  const { control } = await makeControl(t);
  assert.match(control.panelUrl, new RegExp(`^http://127\\.0\\.0\\.1:${control.port}/app/#token=[A-Za-z0-9_-]{22}$`));
  assert.match(control.capturePageUrl, /\/capture\/#token=/);
});

test('the WebSocket needs the token, a Host naming this server, and our own Origin', async (t) => {
  const { control } = await makeControl(t);
  const base = `ws://127.0.0.1:${control.port}`;
  const origin = `http://127.0.0.1:${control.port}`;
  assert.equal(await upgrade(`${base}/control?token=${control.token}`, { origin }), 'open');
  assert.equal(await upgrade(`${base}/frames?token=${control.token}`), 'open', 'non-browser clients send no Origin');
  assert.equal(await upgrade(`${base}/control?token=wrong`, { origin }), '403');
  assert.equal(await upgrade(`${base}/control`, { origin }), '403');
  assert.equal(await upgrade(`${base}/control?token=${control.token}`, { origin: 'http://evil.example' }), '403');
  assert.equal(await upgrade(`${base}/control?token=${control.token}`, { host: `evil.example:${control.port}` }), '403', 'DNS rebinding');
  assert.equal(await upgrade(`${base}/other?token=${control.token}`), '403');
});

test('pages come with a strict CSP, and only under a Host naming this server', async (t) => {
  const { control } = await makeControl(t);
  const ok = await get(control.port, '/capture/', `127.0.0.1:${control.port}`);
  assert.equal(ok.status, 200);
  assert.match(ok.csp, /default-src 'none'/);
  assert.equal((await get(control.port, '/capture/', `attacker.example:${control.port}`)).status, 403);
});

test('calls and events through the real browser client', async (t) => {
  const { control } = await makeControl(t);
  const client = await wsClient(control);
  const states: unknown[] = [];
  const off = client.on('state', (s) => states.push(s));
  const state = await client.call('getState');
  assert.equal(state.broadcast.state, 'stopped');
  const started = await client.call('start');
  assert.equal(started.broadcast.state, 'broadcasting');
  assert.ok(states.length >= 1, 'state events arrive');
  off();
  await assert.rejects(client.call('updateSettings', { quality: 1000 }), { message: 'quality must be a whole number from 1 to 100' });
  await assert.rejects(client.call('nope' as CallName), { message: 'unknown call "nope"' });
  assert.deepEqual(await client.openFrameChannel(), { kind: 'websocket', url: `ws://127.0.0.1:${control.port}/frames?token=${control.token}` });
});

/** A raw /control socket: send text, read the answers. */
async function rawControl(t: TestContext, control: ControlServer): Promise<{ ws: WebSocket; answer(text: string): Promise<unknown> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${control.port}/control?token=${control.token}`);
  await new Promise((r) => ws.once('open', r));
  t.after(() => ws.terminate());
  const answers: unknown[] = [];
  ws.on('message', (m, isBinary) => {
    // Binary messages are preview frames.
    if (isBinary) return;
    const parsed = JSON.parse(m.toString()) as { event?: string };
    if (!parsed.event) answers.push(parsed);
  });
  const answer = async (text: string): Promise<unknown> => {
    const count = answers.length;
    ws.send(text);
    await eventually(() => answers.length > count, 'an answer');
    return answers[count];
  };
  return { ws, answer };
}

test('/control answers a message that is not a call with a one-line error and keeps the socket', async (t) => {
  const { control } = await makeControl(t);
  const { answer } = await rawControl(t, control);
  assert.deepEqual(await answer('{"id": 1, "call": "getSt'), { id: null, error: 'not a JSON message: a call is {"id": 1, "call": "getState", "args": []}' });
  assert.deepEqual(await answer('null'), { id: null, error: 'a call must be an object' });
  assert.deepEqual(await answer('[1,2]'), { id: null, error: 'a call must be an object' });
  assert.deepEqual(await answer('{"id": 2, "call": {"toString": 1}}'), { id: 2, error: "the call's name must be text, not object" });
  assert.deepEqual(await answer('{"id": 3, "call": "kick", "args": {"0": 1}}'), { id: 3, error: 'kick: the arguments must be a list' });
  assert.deepEqual(await answer(`{"id": {"huge": "${'x'.repeat(1000)}"}, "call": "stop"}`), { id: null, result: (await answer('{"id": 4, "call": "getState"}') as { result: unknown }).result });
});

test('each route takes messages of its own size: a JSON call kilobytes, a camera frame megabytes', async (t) => {
  const { service, control } = await makeControl(t);
  const { ws, answer } = await rawControl(t, control);
  // Every setting at its longest, each character in JSON's longest escape (\u0001), still fits.
  const longest = { cameraId: '\u0001'.repeat(512), cameraLabel: '\u0001'.repeat(512), text: '\u0001'.repeat(200) };
  const call = JSON.stringify({ id: 1, call: 'updateSettings', args: [longest] });
  assert.ok(call.length > 7000, `${call.length} bytes`);
  assert.equal(((await answer(call)) as { error?: string }).error, undefined);
  const closed = new Promise<number>((resolve) => ws.once('close', resolve));
  ws.send(JSON.stringify({ id: 2, call: 'getState', args: ['x'.repeat(17 * 1024)] }));
  assert.equal(await closed, 1009, 'message too big');

  const frames = new WebSocket(`ws://127.0.0.1:${control.port}/frames?token=${control.token}`);
  await new Promise((r) => frames.once('open', r));
  t.after(() => frames.terminate());
  t.after(service.hub.hold());
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  [1280, 720, 4, WIRE_FORMAT.pixels].forEach((value, i) => header.writeUInt32LE(value, i * 4));
  frames.send(Buffer.concat([header, Buffer.alloc(1280 * 720 * 4, 90)]));
  assert.equal((await new Promise((r) => frames.once('message', r)))?.toString(), FRAME_ACK);
  await eventually(() => service.hub.latest?.width === 1280, 'the 3.7 MB frame to be encoded');
});

test("each panel's preview is its own: one turning it off, or closing, leaves the other's on", async (t) => {
  const { service, control } = await makeControl(t);
  const camera = setInterval(() => {
    if (service.getState().capture.active) service.acceptFrame({ meta: { format: 'pixels', width: 32, height: 24, channels: 4 }, data: Buffer.alloc(32 * 24 * 4, 60) });
  }, 30);
  t.after(() => clearInterval(camera));
  const [visible, hidden] = [await rawControl(t, control), await rawControl(t, control)];
  const previews = new Map([visible, hidden].map((panel) => [panel, 0]));
  for (const panel of [visible, hidden]) panel.ws.on('message', (_m, isBinary) => isBinary && previews.set(panel, (previews.get(panel) ?? 0) + 1));
  const setPreview = (panel: typeof visible, on: boolean): Promise<unknown> => panel.answer(JSON.stringify({ id: 1, call: 'setPreview', args: [on] }));
  assert.deepEqual(await setPreview(visible, true), { id: 1 });
  await eventually(() => (previews.get(visible) ?? 0) > 0, 'preview frames on the panel that asked');
  assert.equal(previews.get(hidden), 0, 'a panel that did not ask gets no preview');
  // A panel's tab going to the background turns its own preview off.
  await setPreview(hidden, true);
  await setPreview(hidden, false);
  const before = previews.get(visible) ?? 0;
  await eventually(() => (previews.get(visible) ?? 0) > before + 2, 'preview frames after the other panel turned its own off');
  hidden.ws.close();
  await new Promise((r) => hidden.ws.once('close', r));
  const after = previews.get(visible) ?? 0;
  await eventually(() => (previews.get(visible) ?? 0) > after + 2, 'preview frames after the other panel closed');
});

test('a broken WebSocket frame closes that socket only (it ended PushCam before)', async (t) => {
  const { control } = await makeControl(t);
  for (const route of ['control', 'frames']) {
    const ws = new WebSocket(`ws://127.0.0.1:${control.port}/${route}?token=${control.token}`);
    await new Promise((r) => ws.once('open', r));
    ws.on('error', () => undefined);
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    // A masked frame with the reserved opcode 0xF.
    (ws as unknown as { _socket: import('node:net').Socket })._socket.write(Buffer.from([0x8f, 0x80, 1, 2, 3, 4]));
    assert.equal(await closed, 1002, `${route}: closed for a protocol error`);
  }
  const { answer } = await rawControl(t, control);
  assert.equal(((await answer('{"id": 1, "call": "getState"}')) as { result: { broadcast: { state: string } } }).result.broadcast.state, 'stopped');
});

test('camera frames over /frames: each acked, bad ones refused without harm', async (t) => {
  const { service, control } = await makeControl(t);
  t.after(service.hub.hold());
  const ws = new WebSocket(`ws://127.0.0.1:${control.port}/frames?token=${control.token}`);
  await new Promise((r) => ws.once('open', r));
  const acks: string[] = [];
  ws.on('message', (m) => acks.push(m.toString()));
  const header = (width: number, height: number, channels: number, format: number): Buffer => {
    const bytes = Buffer.alloc(FRAME_HEADER_BYTES);
    [width, height, channels, format].forEach((value, i) => bytes.writeUInt32LE(value, i * 4));
    return bytes;
  };
  const pixels = header(32, 24, 4, WIRE_FORMAT.pixels);
  ws.send(Buffer.concat([pixels, Buffer.alloc(32 * 24 * 4, 128)]));
  ws.send(Buffer.concat([pixels, Buffer.alloc(10)]));
  ws.send('not a frame');
  await eventually(() => acks.length === 3, 'three acknowledgements');
  assert.deepEqual(acks, [FRAME_ACK, FRAME_ACK, FRAME_ACK]);
  await eventually(() => service.hub.latest !== null, 'the good frame to be encoded');
  assert.equal(service.hub.latest?.width, 32);

  // With no overlays or turning, a JPEG frame is what viewers get, byte for byte.
  const jpeg = await solidJpeg('#808080', 48, 36);
  ws.send(Buffer.concat([header(48, 36, 0, WIRE_FORMAT.jpeg), jpeg.subarray(0, -2)]));
  ws.send(Buffer.concat([header(48, 36, 0, WIRE_FORMAT.jpeg), jpeg]));
  await eventually(() => acks.length === 5, 'five acknowledgements');
  await eventually(() => service.hub.latest?.width === 48, 'the JPEG frame to reach viewers');
  assert.ok(service.hub.latest?.jpeg.equals(jpeg));
  ws.close();
});

test('the browser client says when the core is gone, fails calls meanwhile, and reconnects to the same address by itself', async (t) => {
  const rig = await makeRig();
  const client = await connectControl(`ws://127.0.0.1:${rig.control.port}/control?token=${rig.control.token}`, WebSocket as never, { retryMs: 100 });
  t.after(() => client.close());
  const connection: string[] = [];
  client.on('connection', (c) => connection.push(c));
  const { port, token } = rig.control;
  await rig.close();
  await eventually(() => connection.includes('lost'), "'lost'");
  await assert.rejects(client.call('getState'), { message: 'the connection to PushCam was lost' });

  const dir = tempDir(t, 'ws');
  const service = await ControlService.create({ settingsFile: null, configDir: dir, captureInWindow: true, log: () => {} });
  const control = await startControlServer(service, { port, token, log: () => {} });
  t.after(async () => {
    await control.close();
    await service.close();
  });
  assert.equal(control.port, port);
  await eventually(() => connection.at(-1) === 'connected', "'connected'", 5000);
  assert.deepEqual(connection, ['lost', 'connected'], 'once each');
  assert.equal((await client.call('getState')).broadcast.state, 'stopped');
});

test('the browser client takes a core that stops answering (a suspended process keeps its socket) as lost', async (t) => {
  const { control } = await makeControl(t);
  const client = await connectControl(`ws://127.0.0.1:${control.port}/control?token=${control.token}`, WebSocket as never, { silenceMs: 300 });
  t.after(() => client.close());
  const connection: string[] = [];
  client.on('connection', (c) => connection.push(c));
  // Stats come every second; a silence of 300 ms is taken for a core that froze.
  await eventually(() => connection.includes('lost'), "'lost' after the silence", 3000);
});
