import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, open, rename, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { DirSource, FileSource, WAITING_PICTURE } from '../server/source/file.js';
import { MAX_FILE_BYTES, readPicture, TOO_BIG_PICTURE, UNREADABLE_PICTURE } from '../server/source/picture-file.js';
import { placeholderImage } from '../server/source/placeholder.js';
import type { FrameSource, SourceImage } from '../server/types.js';

const INTERVAL_MS = 25;
const WAIT_MS = 5000;
// Long enough for several polls; used only to show that something does NOT happen.
const QUIET_MS = 8 * INTERVAL_MS;

/** A source under test with everything it emitted and logged. */
function harness(make: (log: (line: string) => void) => FrameSource) {
  const frames: SourceImage[] = [];
  const logs: string[] = [];
  const source = make((line) => logs.push(line));
  const until = async (what: string, condition: () => boolean): Promise<void> => {
    const deadline = performance.now() + WAIT_MS;
    while (!condition()) {
      if (performance.now() > deadline) {
        throw new Error(`timed out waiting for ${what}: ${frames.length} frames, ${JSON.stringify(source.status())}`);
      }
      await sleep(5);
    }
  };
  const frame = async (n: number): Promise<SourceImage> => {
    await until(`frame ${n}`, () => frames.length >= n);
    return frames[n - 1];
  };
  const start = (): void => source.start((image) => frames.push(image));
  return { source, frames, logs, until, frame, start };
}

function jpegData(image: SourceImage): Buffer {
  assert.equal(image.kind, 'jpeg');
  return image.kind === 'jpeg' ? image.data : Buffer.alloc(0);
}

function rawSize(image: SourceImage): [number, number, number] {
  assert.equal(image.kind, 'raw');
  return image.kind === 'raw' ? [image.image.width, image.image.height, image.image.channels] : [0, 0, 0];
}

function picture(width: number, height: number, r: number): ReturnType<typeof sharp> {
  return sharp({ create: { width, height, channels: 4, background: { r, g: 40, b: 90, alpha: 0.8 } } });
}

const jpeg = (width: number, height: number, r: number): Promise<Buffer> => picture(width, height, r).jpeg().toBuffer();
const png = (width: number, height: number, r: number): Promise<Buffer> => picture(width, height, r).png().toBuffer();

/** Writes like a careful writer does (a new file renamed over the old), so a poll never sees half of it. */
async function replace(path: string, bytes: Buffer | string): Promise<void> {
  await writeFile(`${path}.writing`, bytes);
  await rename(`${path}.writing`, path);
}

let dir: string;
let sources: FrameSource[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushcam-source-'));
});
afterEach(async () => {
  for (const source of sources) source.stop();
  sources = [];
  await rm(dir, { recursive: true, force: true });
});

function fileSource(path: string, intervalMs = INTERVAL_MS) {
  const h = harness((log) => new FileSource({ path, intervalMs, log }));
  sources.push(h.source);
  return h;
}

/** A file source running on cam.jpg, which holds `a` and has been published; `b` is another picture. */
async function showingFirstOfTwo() {
  const path = join(dir, 'cam.jpg');
  const [a, b] = await Promise.all([jpeg(64, 48, 10), jpeg(64, 48, 200)]);
  await replace(path, a);
  const h = fileSource(path);
  h.start();
  await h.frame(1);
  return { path, a, b, h };
}

function dirSource(path: string) {
  const h = harness((log) => new DirSource({ path, intervalMs: INTERVAL_MS, log }));
  sources.push(h.source);
  return h;
}

test('FileSource: reads the file at once on start, not one interval later', async () => {
  const path = join(dir, 'cam.jpg');
  const a = await jpeg(64, 48, 10);
  await replace(path, a);
  const h = fileSource(path, 60_000);
  assert.equal(h.source.kind, 'file');
  assert.equal(h.source.status().state, 'stopped');
  h.start();
  assert.deepEqual(jpegData(await h.frame(1)), a);
  assert.deepEqual(h.source.status(), { kind: 'file', state: 'running', failures: 0 });
});

test('FileSource: publishes a replaced file, and not a file that did not change', async () => {
  const { path, a, b, h } = await showingFirstOfTwo();
  await sleep(QUIET_MS);
  assert.equal(h.frames.length, 1, 'an unchanged file was published again');
  // The same bytes written again (new inode and mtime) are not news either.
  await replace(path, a);
  await sleep(QUIET_MS);
  assert.equal(h.frames.length, 1, 'a rewrite with the same bytes was published');
  await replace(path, b);
  assert.deepEqual(jpegData(await h.frame(2)), b);
  assert.equal(h.logs.length, 0);
});

test('FileSource: keeps the previous frame while a JPEG is half written, and publishes it once complete', async () => {
  const { path, b, h } = await showingFirstOfTwo();
  await replace(path, b.subarray(0, b.length >> 1));
  await h.until('the failure to be counted', () => h.source.status().failures === 1);
  assert.equal(h.frames.length, 1);
  assert.deepEqual(h.source.status(), {
    kind: 'file',
    state: 'running',
    failures: 1,
    error: `${path} is not a complete image (keeping the previous frame)`,
    viewerError: 'The newest picture is incomplete; showing the one before',
  });
  await replace(path, b);
  assert.deepEqual(jpegData(await h.frame(2)), b);
  assert.equal(h.source.status().error, undefined);
  assert.deepEqual(h.logs, [`${path} is not a complete image (keeping the previous frame)`]);
});

test('FileSource: reads a rejected file again even when its size, time and inode stay the same', async () => {
  // A writer that sets the file's length first and fills it in later, on a file system with
  // coarse timestamps (whole seconds): stat cannot tell the two states apart.
  const path = join(dir, 'cam.jpg');
  const b = await jpeg(64, 48, 200);
  const half = b.length >> 1;
  const mtime = new Date(Math.floor(Date.now() / 1000) * 1000);
  await writeFile(path, Buffer.concat([b.subarray(0, half), Buffer.alloc(b.length - half)]));
  await utimes(path, mtime, mtime);
  const before = await stat(path);
  const h = fileSource(path);
  h.start();
  await h.until('the half-written file to be rejected', () => h.source.status().failures === 1);
  const file = await open(path, 'r+');
  await file.write(b, half, b.length - half, half);
  await file.close();
  await utimes(path, mtime, mtime);
  const after = await stat(path);
  assert.deepEqual([after.size, after.mtimeMs, after.ino], [before.size, before.mtimeMs, before.ino]);
  assert.deepEqual(jpegData(await h.frame(1)), b);
});

test('FileSource: does not read a rejected file again while its size, time and inode stay the same', async () => {
  // An old file: the clock is far past its timestamp, so unchanged stat means unchanged bytes.
  const path = join(dir, 'cam.jpg');
  const b = await jpeg(64, 48, 200);
  const old = new Date(Date.now() - 60_000);
  await writeFile(path, Buffer.alloc(b.length));
  await utimes(path, old, old);
  const h = fileSource(path);
  h.start();
  await h.until('the bad file to be rejected', () => h.source.status().failures === 1);
  // The same size, time and inode, other bytes: only a new read could tell.
  const file = await open(path, 'r+');
  await file.write(b, 0, b.length, 0);
  await file.close();
  await utimes(path, old, old);
  await sleep(QUIET_MS);
  assert.equal(h.frames.length, 0, 'an unchanged rejected file was read again');
  await utimes(path, new Date(), new Date());
  assert.deepEqual(jpegData(await h.frame(1)), b);
});

test('FileSource: does not read a file above MAX_FILE_BYTES, says why, and keeps memory', async () => {
  const { path, h } = await showingFirstOfTwo();
  const before = process.memoryUsage().rss;
  // A sparse gigabyte: costs no disk, and 1 GB of memory to whoever reads it.
  await rm(path);
  await writeFile(path, '');
  await truncate(path, 1024 ** 3);
  const tooBig = await h.frame(2);
  assert.deepEqual(h.source.status(), {
    kind: 'file',
    state: 'error',
    failures: 0,
    error: `${path} is 1024 MB; PushCam reads picture files of up to 64 MB`,
    viewerError: TOO_BIG_PICTURE[0],
  });
  assert.ok(tooBig.kind === 'raw' && tooBig.image.data.equals((await placeholderImage(64, 48, TOO_BIG_PICTURE)).data), 'the picture says something else');
  await sleep(QUIET_MS);
  const grewMb = (process.memoryUsage().rss - before) / 2 ** 20;
  assert.ok(grewMb < 300, `RSS grew by ${grewMb.toFixed(0)} MB`);
  assert.equal(h.frames.length, 2, 'the placeholder was sent more than once');
  await replace(path, await jpeg(64, 48, 99));
  assert.equal((await h.frame(3)).kind, 'jpeg');
});

test('FileSource: says a file replaced by a FIFO is one, without blocking, and shows the picture when it is back', async () => {
  const { path, b, h } = await showingFirstOfTwo();
  await rm(path);
  execFileSync('mkfifo', [path]);
  // A poll between the rm and the mkfifo may see no file at all first.
  const fifoError = `${path} is a named pipe (FIFO), not a picture file`;
  await h.until('the FIFO to be named', () => h.source.status().error === fifoError);
  await rm(path);
  await replace(path, b);
  await h.until('the picture back', () => {
    const last = h.frames.at(-1);
    return last?.kind === 'jpeg' && last.data.equals(b);
  });
});

test('FileSource: counts unreadable files and logs once per run of failures', async () => {
  const { path, b, h } = await showingFirstOfTwo();
  await replace(path, 'this is not a picture');
  await h.until('the failure to be counted', () => h.source.status().failures === 1);
  await sleep(QUIET_MS);
  await replace(path, 'nor is this');
  await h.until('the second failure', () => h.source.status().failures === 2);
  await sleep(QUIET_MS);
  assert.equal(h.source.status().failures, 2, 'the same bad bytes were counted on every poll');
  assert.equal(h.logs.length, 1, h.logs.join('\n'));
  assert.equal(h.frames.length, 1);
  await replace(path, b);
  await h.frame(2);
  await replace(path, 'broken again');
  await h.until('the next run of failures to be logged', () => h.logs.length === 2);
  assert.equal(h.source.status().failures, 3);
});

test('FileSource: decodes other image formats to raw RGB, and rejects a truncated PNG', async () => {
  const path = join(dir, 'cam.png');
  const picture = await png(40, 30, 200);
  await replace(path, picture.subarray(0, picture.length - 20));
  const h = fileSource(path);
  h.start();
  await h.until('the truncated PNG to be rejected', () => h.source.status().failures === 1);
  assert.equal(h.source.status().state, 'error', 'nothing shown yet, and the file is unusable');
  await replace(path, picture);
  const frame = await h.frame(1);
  assert.deepEqual(rawSize(frame), [40, 30, 3]);
  if (frame.kind === 'raw') {
    assert.equal(frame.image.data.length, 40 * 30 * 3);
    // The red channel of the first pixel, with the alpha removed (not blended).
    assert.equal(frame.image.data[0], 200);
  }
});

test('FileSource: shows one "waiting" picture for a missing file, then the image when it appears', async () => {
  const path = join(dir, 'later.jpg');
  const h = fileSource(path);
  h.start();
  const waiting = await h.frame(1);
  assert.deepEqual(rawSize(waiting), [1280, 720, 3]);
  // Words for viewers; the path is for the log and the window only.
  if (waiting.kind === 'raw') assert.ok(waiting.image.data.equals((await placeholderImage(1280, 720, WAITING_PICTURE)).data), 'the waiting picture says something else');
  assert.deepEqual(h.source.status(), { kind: 'file', state: 'waiting', error: `waiting for ${path}`, viewerError: WAITING_PICTURE[0], failures: 0 });
  await sleep(QUIET_MS);
  assert.equal(h.frames.length, 1, 'the waiting picture was sent more than once');
  const a = await jpeg(64, 48, 10);
  await replace(path, a);
  assert.deepEqual(jpegData(await h.frame(2)), a);
  assert.deepEqual(h.source.status(), { kind: 'file', state: 'running', failures: 0 });
  // Gone again: the waiting picture takes the size of the last one, and the same image
  // coming back is news to viewers who now see the waiting picture.
  await rm(path);
  assert.deepEqual(rawSize(await h.frame(3)), [64, 48, 3]);
  await replace(path, a);
  assert.deepEqual(jpegData(await h.frame(4)), a);
  assert.deepEqual(h.logs, [`waiting for ${path}`, `waiting for ${path}`]);
});

test('FileSource: reports a path that is not a file as an error, and keeps polling', async () => {
  const path = join(dir, 'cam.jpg');
  await mkdir(path);
  const h = fileSource(path);
  h.start();
  const unreadable = await h.frame(1);
  assert.deepEqual(h.source.status(), {
    kind: 'file',
    state: 'error',
    error: `${path} is a folder, not a picture file`,
    viewerError: UNREADABLE_PICTURE[0],
    failures: 0,
  });
  assert.ok(unreadable.kind === 'raw' && unreadable.image.data.equals((await placeholderImage(1280, 720, UNREADABLE_PICTURE)).data), 'the picture names the path');
  await rm(path, { recursive: true });
  const a = await jpeg(64, 48, 10);
  await replace(path, a);
  await h.until('the image', () => h.frames.some((f) => f.kind === 'jpeg'));
  assert.equal(h.source.status().state, 'running');
});

test(
  'FileSource: reports a file it may not read as an error',
  { skip: process.getuid?.() === 0 ? 'root may read any file' : false },
  async () => {
    const path = join(dir, 'cam.jpg');
    await writeFile(path, await jpeg(64, 48, 10), { mode: 0o000 });
    const h = fileSource(path);
    h.start();
    await h.until('the error', () => h.source.status().state === 'error');
    assert.equal(h.source.status().error, `no permission to read ${path}`);
  },
);

test('FileSource: emits nothing after stop, and publishes the current file at once on a new start', async () => {
  const { path, b, h } = await showingFirstOfTwo();
  h.source.stop();
  assert.equal(h.source.status().state, 'stopped');
  await replace(path, b);
  await sleep(QUIET_MS);
  assert.equal(h.frames.length, 1);
  h.start();
  assert.deepEqual(jpegData(await h.frame(2)), b);
  h.source.stop();
  h.start();
  assert.deepEqual(jpegData(await h.frame(3)), b, 'a restarted source must show the picture again');
});

test('FileSource: leaves no timer behind: a process with a stopped source exits by itself', async () => {
  const path = join(dir, 'cam.jpg');
  await replace(path, await jpeg(16, 16, 10));
  const module = fileURLToPath(new URL('../server/source/file.ts', import.meta.url));
  const script = `
    const { FileSource, DirSource } = await import(${JSON.stringify(module)});
    const [file, folder] = process.argv.slice(1);
    for (const source of [
      new FileSource({ path: file, intervalMs: 10, log: console.error }),
      new DirSource({ path: folder, intervalMs: 10, log: console.error }),
    ]) {
      await new Promise((resolve) => source.start(resolve));
      source.stop();
    }
    console.log('stopped');`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, path, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const result = await Promise.race([exited, sleep(15_000, 'still running', { ref: false })]);
  if (result === 'still running') child.kill();
  assert.equal(result, 0);
  assert.match(output, /stopped/);
});

test('readPicture: reads a file whole', async () => {
  const path = join(dir, 'cam.jpg');
  const a = await jpeg(64, 48, 10);
  await writeFile(path, a);
  assert.deepEqual(await readPicture(path), a);
});

test('readPicture: refuses at once what the path names if it is no plain file of at most MAX_FILE_BYTES', async () => {
  // A FIFO nobody writes to: opening it without O_NONBLOCK waits for a writer for ever.
  const fifo = join(dir, 'fifo.jpg');
  execFileSync('mkfifo', [fifo]);
  const huge = join(dir, 'huge.jpg');
  await writeFile(huge, '');
  await truncate(huge, MAX_FILE_BYTES + 1);
  const justOver = `${((MAX_FILE_BYTES + 1) / 2 ** 20).toFixed(1)} MB`;
  const cases: [string, RegExp][] = [
    [fifo, /is a named pipe \(FIFO\), not a picture file$/],
    [dir, /is a folder, not a picture file$/],
    ['/dev/zero', /is a device, not a picture file$/],
    [huge, new RegExp(`is ${justOver}; PushCam reads picture files of up to 64 MB$`)],
  ];
  for (const [path, message] of cases) {
    const answer = await Promise.race([readPicture(path).then(() => 'read', (err: Error) => err.message), sleep(2000, 'still waiting')]);
    assert.match(answer, message, path);
  }
});

// Whole seconds, so that files given the same age get exactly the same mtime.
const now = Math.floor(Date.now() / 1000);
async function put(name: string, bytes: Buffer | string, secondsAgo: number): Promise<void> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  const when = now - secondsAgo;
  await utimes(path, when, when);
}

test('DirSource: shows the newest image, ignoring dotfiles, temporary files and other files', async () => {
  const [old, newest] = await Promise.all([jpeg(64, 48, 10), png(40, 30, 200)]);
  await put('a.jpg', old, 30);
  await put('b.PNG', newest, 20);
  await put('.hidden.jpg', old, 1);
  await put('c.jpg.tmp', old, 1);
  await put('d.jpg.part', old, 1);
  await put('e.jpg~', old, 1);
  await put('notes.txt', 'not an image', 1);
  await mkdir(join(dir, 'folder.jpg'));
  const h = dirSource(dir);
  assert.equal(h.source.kind, 'dir');
  h.start();
  assert.deepEqual(rawSize(await h.frame(1)), [40, 30, 3]);
  assert.deepEqual(h.source.status(), { kind: 'dir', state: 'running', failures: 0 });
});

test('DirSource: follows new files, and breaks a tie in time by name', async () => {
  const [a, b, c] = await Promise.all([jpeg(64, 48, 10), jpeg(64, 48, 100), jpeg(64, 48, 200)]);
  await put('img-002.jpg', b, 10);
  await put('img-001.jpg', a, 10);
  const h = dirSource(dir);
  h.start();
  assert.deepEqual(jpegData(await h.frame(1)), b);
  await put('img-003.jpg', c, 0);
  assert.deepEqual(jpegData(await h.frame(2)), c);
});

test('DirSource: waits for images in an empty or missing folder', async () => {
  const folder = join(dir, 'shots');
  const h = dirSource(folder);
  h.start();
  assert.deepEqual(rawSize(await h.frame(1)), [1280, 720, 3]);
  assert.equal(h.source.status().state, 'waiting');
  assert.equal(h.source.status().error, `waiting for images in ${folder}`);
  await mkdir(folder);
  await sleep(QUIET_MS);
  assert.equal(h.frames.length, 1, 'an empty folder is the same wait as a missing one');
  const a = await jpeg(64, 48, 10);
  await replace(join(folder, 'shot.jpg'), a);
  assert.deepEqual(jpegData(await h.frame(2)), a);
});

test('DirSource: reports a file given as the folder as an error', async () => {
  const path = join(dir, 'cam.jpg');
  await replace(path, await jpeg(16, 16, 10));
  const h = dirSource(path);
  h.start();
  await h.frame(1);
  assert.deepEqual(h.source.status(), {
    kind: 'dir',
    state: 'error',
    error: `${path} is a file, not a folder`,
    viewerError: UNREADABLE_PICTURE[0],
    failures: 0,
  });
});
