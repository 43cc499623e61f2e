import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { hostLabel } from '../server/net/announce.js';
import { eventually } from './helpers/server.js';
import { tempDir } from './helpers/fixtures.js';

// The announcement, seen by a real DNS-SD browser (bonjour-service, another implementation than
// PushCam's ciao) in another process. Both run inside a network namespace of this test's own,
// whose only interface is its loopback with multicast on: nothing reaches a real network.

const NETNS = `pushcam-mdns-${process.pid}`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

/** Makes the namespace; why it cannot, or null. */
function makeNamespace(): string | null {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'creating a network namespace needs root';
  try {
    ip('netns', 'add', NETNS);
    ip('-n', NETNS, 'link', 'set', 'lo', 'up', 'multicast', 'on');
    ip('-n', NETNS, 'route', 'add', '224.0.0.0/4', 'dev', 'lo');
    return null;
  } catch (err) {
    deleteNamespace();
    return `ip netns failed: ${(err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message}`;
  }
}

function deleteNamespace(): void {
  try {
    ip('netns', 'delete', NETNS);
  } catch {
    // Not made, or gone.
  }
}

const unavailable = makeNamespace();
process.on('exit', deleteNamespace);

/** A test helper run with tsx inside the namespace. */
function inNamespace(t: TestContext, helper: string, ipc: boolean, args: string[] = []): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', NETNS, process.execPath, '--import', 'tsx', join(import.meta.dirname, 'helpers', helper), ...args], {
    stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])],
    cwd: join(import.meta.dirname, '..'),
  });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return child;
}

interface Seen {
  event: 'up' | 'down';
  name: string;
  host: string;
  port: number;
  addresses: string[];
  txt: Record<string, string>;
}

function browse(t: TestContext): Seen[] {
  const seen: Seen[] = [];
  const child = inNamespace(t, 'mdns-browser.ts', false);
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) seen.push(JSON.parse(line) as Seen);
  });
  t.after(() => void child.kill('SIGTERM'));
  return seen;
}

interface Answer {
  port: number | null;
  nameUrl: string;
  urls: string[];
}

/** The PushCam in the namespace: each call answers with its share links. */
async function pushcam(t: TestContext): Promise<{ call(message: object): Promise<Answer>; nameUrl(): string; logs: string[] }> {
  const config = tempDir(t, 'mdns');
  const child = inNamespace(t, 'mdns-service.ts', true, [config]);
  const logs: string[] = [];
  let nameUrl = '';
  let pending: ((a: Answer) => void) | null = null;
  let failed: ((err: Error) => void) | null = null;
  let ready = false;
  child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  child.on('message', (m: Partial<Answer> & { log?: string; error?: string; ready?: boolean; closed?: boolean }) => {
    if (m.ready) ready = true;
    if (m.log) logs.push(m.log);
    if (m.error) failed?.(new Error(m.error));
    if (m.nameUrl !== undefined) nameUrl = m.nameUrl;
    if (m.port !== undefined) pending?.(m as Answer);
    if (m.closed) pending?.({ port: null, nameUrl: '', urls: [] });
  });
  await eventually(() => ready, `PushCam to start in the namespace (${logs.join(' ')})`, 20_000);
  return {
    logs,
    nameUrl: () => nameUrl,
    call: (message) =>
      new Promise<Answer>((resolve, reject) => {
        pending = resolve;
        failed = reject;
        child.send(message);
      }),
  };
}

const last = (seen: Seen[], name: string): Seen | undefined => seen.filter((s) => s.name === name).at(-1);

test('a DNS-SD browser finds the camera by name, following name and port changes, the setting, stop, start and quit', unavailable ? { skip: unavailable } : {}, async (t) => {
  const seen = browse(t);
  const cam = await pushcam(t);
  const started = await cam.call({ call: 'start' });
  assert.ok(started.port);
  const up = (name: string, port: number, host: string): Promise<void> =>
    eventually(() => {
      const s = last(seen, name);
      return s?.event === 'up' && s.port === port && s.host === host;
    }, `${name} up on ${host}:${port} (seen ${JSON.stringify(seen)}; log ${cam.logs.join(' ')})`, 15_000);
  const down = (name: string): Promise<void> => eventually(() => last(seen, name)?.event === 'down', `${name} to go down (seen ${JSON.stringify(seen)})`, 15_000);

  await up('Kitchen Cam', started.port, 'kitchen-cam.local');
  const found = last(seen, 'Kitchen Cam')!;
  assert.ok(found.addresses.includes('127.0.0.1'), `the host name resolves to the namespace's address: ${found.addresses.join(', ')}`);
  assert.deepEqual(found.txt, { path: '/' }, 'the announcement carries the path, and never the key');
  await eventually(() => cam.nameUrl().startsWith(`http://kitchen-cam.local:${started.port}/?key=`), 'the share links to have the .local link');

  // A rename: the old name goes, the new one comes, with its own host name.
  await cam.call({ call: 'update', patch: { name: 'Back Yard' } });
  await down('Kitchen Cam');
  await up('Back Yard', started.port, 'back-yard.local');
  await eventually(() => cam.nameUrl().startsWith(`http://back-yard.local:${started.port}/`), 'the .local link to follow the name');

  // A new port.
  const moved = await cam.call({ call: 'update', patch: { port: started.port === 18_765 ? 18_766 : 18_765 } });
  assert.ok(moved.port && moved.port !== started.port);
  await up('Back Yard', moved.port, 'back-yard.local');
  await eventually(() => cam.nameUrl().startsWith(`http://back-yard.local:${moved.port}/`), 'the .local link to follow the port');

  // The setting turns it off, and on again.
  const off = await cam.call({ call: 'update', patch: { mdns: false } });
  await down('Back Yard');
  assert.equal(off.nameUrl, '');
  assert.ok(off.urls.every((url) => !url.includes('.local')), off.urls.join(' '));
  await cam.call({ call: 'update', patch: { mdns: true } });
  await up('Back Yard', moved.port, 'back-yard.local');

  // Stop broadcasting withdraws it; start announces it again.
  const stopped = await cam.call({ call: 'stop' });
  assert.equal(stopped.nameUrl, '');
  await down('Back Yard');
  await cam.call({ call: 'start' });
  await up('Back Yard', moved.port, 'back-yard.local');

  // Quitting says goodbye.
  await cam.call({ call: 'close' });
  await down('Back Yard');
});

test('pushcam serve prints the .local link once the name is announced, and withdraws it on Ctrl-C', unavailable ? { skip: unavailable } : {}, async (t) => {
  const seen = browse(t);
  const config = tempDir(t, 'mdns-cli');
  const env: NodeJS.ProcessEnv = { ...process.env, PUSHCAM_CONFIG_DIR: config };
  delete env.PUSHCAM_NO_MDNS;
  const bin = join(import.meta.dirname, '../bin/pushcam.js');
  const child = spawn('ip', ['netns', 'exec', NETNS, process.execPath, bin, 'serve', '--port', '0', '--name', 'Porch', '--size', '160x120'], { env });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const line = /^Viewer: http:\/\/porch\.local:(\d+)\/\?key=[A-Za-z0-9_-]{22} {3}\(network, by name; where \.local names resolve\)$/m;
  await eventually(() => line.test(stdout), `the .local line (stdout: ${stdout})`, 15_000);
  const port = Number(line.exec(stdout)![1]);
  assert.ok(stdout.indexOf('Ctrl-C to stop.') < stdout.search(line), 'after the start-up block');
  await eventually(() => last(seen, 'Porch')?.event === 'up' && last(seen, 'Porch')?.port === port, `the browser to see Porch on ${port}`, 15_000);
  child.kill('SIGINT');
  await eventually(() => last(seen, 'Porch')?.event === 'down', 'Porch to go down on Ctrl-C', 15_000);
});

test('the .local host name is made of the camera name: letters and digits, dashes between words', () => {
  assert.equal(hostLabel('Kitchen Cam'), 'kitchen-cam');
  assert.equal(hostLabel('  Café — Entrée #2 '), 'cafe-entree-2');
  assert.equal(hostLabel(''), 'pushcam');
  assert.equal(hostLabel('🎥'), 'pushcam');
  assert.equal(hostLabel('a'.repeat(70)).length, 63);
});
