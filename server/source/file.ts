import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { LIMITS } from '../../shared/limits.js';
import type { FrameSource, SourceImage } from '../types.js';
import type { SourceState, SourceStatus } from '../../shared/status.js';
import { isCompleteJpeg, jpegSize } from '../../shared/jpeg-info.js';
import { withoutMetadata } from '../encoder/jpeg-metadata.js';
import { checkIsFile, checkSize, NotAPicture, readPicture, TOO_BIG_PICTURE, UNREADABLE_PICTURE } from './picture-file.js';
import { PLACEHOLDER_SIZE, placeholderImage } from './placeholder.js';
import { Ticker } from './ticker.js';

// Another program keeps rewriting an image file (or adding files to a folder); we poll and publish
// a picture whenever the bytes change. Polling with stat, not fs.watch: it works the same on
// network shares and with every way of writing a file, and costs one stat per interval.

interface FileSourceOptions {
  path: string;
  intervalMs: number;
  log: (line: string) => void;
}

interface FoundFile {
  path: string;
  stats: Stats;
}

/** Which file to show: one fixed file, or the newest image in a folder. */
interface Target {
  /** The file to show now, or null when there is none yet. Throws when it cannot look. */
  find(): Promise<FoundFile | null>;
  /** What the log and the window say while there is nothing to show (viewers see WAITING_PICTURE). */
  readonly waiting: string;
}

/** What one run (start() to stop()) has seen; a fresh one on every start, so it publishes at once. */
interface Run {
  emit: (image: SourceImage) => void;
  /** Path, size, mtime and inode of the file last read. */
  seen?: string;
  /** Digests, not the bytes, so a big picture is held once (by the hub), not three times. */
  published?: string;
  /** Bytes last rejected; while set a file the clock may not have moved past is read again (see mayStillBeWritten). */
  rejected?: string;
  /** The waiting or error message whose placeholder is showing. */
  notice?: string;
}

/** Pictures PushCam decodes (all but JPEG, which is passed through) may have at most this many pixels. */
const MAX_DECODED_PIXELS = LIMITS.width[1] * LIMITS.height[1];
/**
 * How long a rejected file whose size, time and inode stay the same is read again: a writer that
 * sets the length first and fills the file in later leaves no trace in stat while the clock is in
 * the file system's timestamp step (2 s on FAT, 1 s on HFS+ and ext3). Past that, an unchanged
 * stat means unchanged bytes, and a bad file is not read on every tick.
 */
const TIMESTAMP_STEP_MS = 3000;

// What viewers see while there is no picture (see picture-file.ts for the other words they get).
export const WAITING_PICTURE = ['Waiting for the picture'];
const INCOMPLETE_PICTURE = 'The newest picture is incomplete; showing the one before';

class PolledFileSource implements FrameSource {
  private readonly ticker: Ticker;
  private run: Run | undefined;
  private state: SourceState = 'stopped';
  private error: { message: string; forViewers: string } | undefined;
  private failures = 0;
  // The placeholder takes the size of the last good picture, so viewers' layout does not jump.
  private lastSize = PLACEHOLDER_SIZE;

  constructor(
    readonly kind: string,
    private readonly target: Target,
    private readonly log: (line: string) => void,
    intervalMs: number,
  ) {
    this.ticker = new Ticker(intervalMs, () => this.poll());
  }

  start(emit: (image: SourceImage) => void): void {
    this.run = { emit };
    this.state = 'running';
    this.error = undefined;
    this.failures = 0;
    this.ticker.start();
  }

  stop(): void {
    this.ticker.stop();
    this.run = undefined;
    this.state = 'stopped';
    this.error = undefined;
  }

  status(): SourceStatus {
    const status: SourceStatus = { kind: this.kind, state: this.state, failures: this.failures };
    if (this.error) {
      status.error = this.error.message;
      status.viewerError = this.error.forViewers;
    }
    return status;
  }

  private async poll(): Promise<void> {
    const run = this.run;
    if (!run) return;
    try {
      const found = await this.target.find();
      if (run !== this.run) return;
      if (found) await this.consider(run, found);
      else await this.showNotice(run, 'waiting', this.target.waiting, WAITING_PICTURE);
    } catch (err) {
      if (run !== this.run) return;
      if (err instanceof NotAPicture) await this.showNotice(run, 'error', err.message, err.lines);
      else if (errorCode(err) === 'ENOENT') await this.showNotice(run, 'waiting', this.target.waiting, WAITING_PICTURE);
      else await this.showNotice(run, 'error', describeError(err), UNREADABLE_PICTURE);
    }
  }

  private async consider(run: Run, found: FoundFile): Promise<void> {
    const { size, mtimeMs, ino } = found.stats;
    const identity = `${found.path}\n${size}\n${mtimeMs}\n${ino}`;
    if (identity === run.seen && !(run.rejected && mayStillBeWritten(found.stats))) return;
    checkSize(found.path, size);
    const bytes = await readPicture(found.path);
    if (run !== this.run) return;
    run.seen = identity;
    const digest = digestOf(bytes);
    if (run.published === digest) {
      this.endFailures(run);
      return;
    }
    if (run.rejected === digest) return;
    let image: SourceImage | null;
    try {
      image = await decode(found.path, bytes);
    } catch (err) {
      if (!(err instanceof NotAPicture)) throw err;
      await this.showNotice(run, 'error', err.message, err.lines);
      // Read again only once it changes.
      run.seen = identity;
      return;
    }
    if (run !== this.run) return;
    if (image) this.publish(run, image, digest);
    else this.reject(run, found.path, digest);
  }

  private publish(run: Run, image: SourceImage, digest: string): void {
    run.published = digest;
    run.notice = undefined;
    run.rejected = undefined;
    this.state = 'running';
    this.error = undefined;
    const { width, height } = image.kind === 'raw' ? image.image : image;
    this.lastSize = { width, height };
    run.emit(image);
  }

  private reject(run: Run, path: string, digest: string): void {
    const firstOfRun = !run.rejected;
    run.rejected = digest;
    this.failures += 1;
    const message = `${path} is not a complete image (keeping the previous frame)`;
    this.error = { message, forViewers: run.published ? INCOMPLETE_PICTURE : UNREADABLE_PICTURE.join(' ') };
    if (!run.published) this.state = 'error';
    if (firstOfRun) this.log(message);
  }

  private endFailures(run: Run): void {
    if (!run.rejected) return;
    run.rejected = undefined;
    this.error = undefined;
    this.state = 'running';
  }

  /** Shows why there is no picture, once per stretch of the same reason: `notice` to the log, `lines` to viewers. */
  private async showNotice(run: Run, state: SourceState, notice: string, lines: string[]): Promise<void> {
    // Whatever comes next is news to viewers who are looking at this placeholder.
    run.seen = undefined;
    run.published = undefined;
    run.rejected = undefined;
    this.state = state;
    this.error = { message: notice, forViewers: lines.join(' ') };
    if (run.notice === notice) return;
    run.notice = notice;
    this.log(notice);
    try {
      const image = await placeholderImage(this.lastSize.width, this.lastSize.height, lines);
      if (run === this.run) run.emit({ kind: 'raw', image });
    } catch (err) {
      this.log(`cannot draw the "${notice}" picture: ${(err as Error).message}`);
    }
  }
}

/** Publishes one image file whenever another program rewrites it. */
export class FileSource extends PolledFileSource {
  constructor({ path, intervalMs, log }: FileSourceOptions) {
    super('file', singleFile(path), log, intervalMs);
  }
}

/** Publishes the newest image in a folder, e.g. one a camera or a script saves pictures into. */
export class DirSource extends PolledFileSource {
  constructor({ path, intervalMs, log }: FileSourceOptions) {
    super('dir', newestImageIn(path), log, intervalMs);
  }
}

function singleFile(path: string): Target {
  return {
    waiting: `waiting for ${path}`,
    async find() {
      const stats = await stat(path);
      checkIsFile(path, stats);
      return { path, stats };
    },
  };
}

// Writers' temporary names (.tmp, .part, a trailing ~) never end in one of these, so they are
// ignored with everything else that is not an image.
const IMAGE_NAME = /\.(jpe?g|png|webp|gif|tiff?|avif)$/i;

function newestImageIn(dir: string): Target {
  return {
    waiting: `waiting for images in ${dir}`,
    async find() {
      const names = (await readdir(dir).catch(notAFolder(dir))).filter(
        (name) => IMAGE_NAME.test(name) && !name.startsWith('.'),
      );
      const files = await Promise.all(names.map((name) => statIfPresent(join(dir, name))));
      return files.reduce<FoundFile | null>((newest, file) => (file && isNewer(file, newest) ? file : newest), null);
    },
  };
}

function notAFolder(dir: string): (err: unknown) => never {
  return (err) => {
    throw errorCode(err) === 'ENOTDIR' ? new Error(`${dir} is a file, not a folder`) : err;
  };
}

/** The file's details, or null if it is gone (deleted between listing and stat) or not a file. */
async function statIfPresent(path: string): Promise<FoundFile | null> {
  try {
    const stats = await stat(path);
    return stats.isFile() ? { path, stats } : null;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return null;
    throw err;
  }
}

function isNewer(file: FoundFile, than: FoundFile | null): boolean {
  if (!than) return true;
  const age = file.stats.mtimeMs - than.stats.mtimeMs;
  return age > 0 || (age === 0 && file.path > than.path);
}

function mayStillBeWritten(stats: Stats): boolean {
  return Date.now() - stats.mtimeMs < TIMESTAMP_STEP_MS;
}

function digestOf(bytes: Buffer): string {
  // Not for security: only to tell whether the same bytes came again.
  return createHash('sha1').update(bytes).digest('base64');
}

/**
 * The picture in `bytes`, or null when it is not a whole image: a JPEG must end with its
 * end-of-image marker and have headers that can be read, other formats must decode completely. Throws when it is too big to decode.
 */
async function decode(path: string, bytes: Buffer): Promise<SourceImage | null> {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    // Passed through to viewers: without the camera's metadata (GPS, make, thumbnail).
    const data = isCompleteJpeg(bytes) ? withoutMetadata(bytes) : null;
    const size = data && jpegSize(data);
    return data && size && { kind: 'jpeg', data, ...size };
  }
  try {
    const { width = 0, height = 0 } = await sharp(bytes).metadata();
    if (width * height > MAX_DECODED_PIXELS) {
      const most = `${LIMITS.width[1]}x${LIMITS.height[1]}`;
      throw new NotAPicture(`${path} is ${width}x${height} pixels; PushCam shows pictures of up to ${most}`, TOO_BIG_PICTURE);
    }
    const { data, info } = await sharp(bytes, { limitInputPixels: MAX_DECODED_PIXELS })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) return null;
    return { kind: 'raw', image: { width: info.width, height: info.height, channels: 3, data } };
  } catch (err) {
    if (err instanceof NotAPicture) throw err;
    return null;
  }
}

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function describeError(err: unknown): string {
  const path = (err as NodeJS.ErrnoException).path ?? 'the file';
  switch (errorCode(err)) {
    case 'EACCES':
    case 'EPERM':
      return `no permission to read ${path}`;
    case 'ENOTDIR':
      return `${path} cannot be read: part of the path is a file, not a folder`;
    case 'EISDIR':
      return `${path} is a folder, not a picture file`;
    case 'ELOOP':
      return `${path} cannot be read: its symbolic links go round in a loop`;
    case 'EMFILE':
    case 'ENFILE':
      return `${path} cannot be read: too many files are open`;
    case undefined:
      return (err as Error).message;
    default:
      return `${path} cannot be read: ${(err as Error).message}`;
  }
}
