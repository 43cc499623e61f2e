import type { Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { FrameSource, SourceImage, SourceState, SourceStatus } from '../types.js';
import { isCompleteJpeg, jpegSize } from '../encoder/jpeg-info.js';
import { placeholderImage } from './placeholder.js';
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
  published?: Buffer;
  /** Bytes last rejected; while set we read again on every tick, as the writer may still be at it. */
  rejected?: Buffer;
  /** The waiting or error message whose placeholder is showing. */
  notice?: string;
}

const DEFAULT_SIZE = { width: 1280, height: 720 };
// What viewers' placeholder pictures say: no paths, no system errors (those go to the log and the window).
export const WAITING_PICTURE = ['Waiting for the picture'];
export const UNREADABLE_PICTURE = ['The picture cannot be read'];

class PolledFileSource implements FrameSource {
  private readonly ticker: Ticker;
  private run: Run | undefined;
  private state: SourceState = 'stopped';
  private error: string | undefined;
  private failures = 0;
  // The placeholder takes the size of the last good picture, so viewers' layout does not jump.
  private lastSize = DEFAULT_SIZE;

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
    if (this.error) status.error = this.error;
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
      if (errorCode(err) === 'ENOENT') await this.showNotice(run, 'waiting', this.target.waiting, WAITING_PICTURE);
      else await this.showNotice(run, 'error', describeError(err), UNREADABLE_PICTURE);
    }
  }

  private async consider(run: Run, found: FoundFile): Promise<void> {
    const { size, mtimeMs, ino } = found.stats;
    const identity = `${found.path}\n${size}\n${mtimeMs}\n${ino}`;
    if (identity === run.seen && !run.rejected) return;
    const bytes = await readFile(found.path);
    if (run !== this.run) return;
    run.seen = identity;
    if (run.published?.equals(bytes)) {
      this.endFailures(run);
      return;
    }
    if (run.rejected?.equals(bytes)) return;
    const image = await decode(bytes);
    if (run !== this.run) return;
    if (image) this.publish(run, image, bytes);
    else this.reject(run, found.path, bytes);
  }

  private publish(run: Run, image: SourceImage, bytes: Buffer): void {
    run.published = bytes;
    run.notice = undefined;
    run.rejected = undefined;
    this.state = 'running';
    this.error = undefined;
    const { width, height } = (image.kind === 'raw' ? image.image : jpegSize(image.data)) ?? this.lastSize;
    this.lastSize = { width, height };
    run.emit(image);
  }

  private reject(run: Run, path: string, bytes: Buffer): void {
    const firstOfRun = !run.rejected;
    run.rejected = bytes;
    this.failures += 1;
    this.error = `${path} is not a complete image (keeping the previous frame)`;
    if (!run.published) this.state = 'error';
    if (firstOfRun) this.log(this.error);
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
    this.error = notice;
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
      if (!stats.isFile()) throw new Error(`${path} is ${stats.isDirectory() ? 'a folder' : 'not a file'}`);
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

/**
 * The picture in `bytes`, or null when it is not a whole image: a JPEG must end with its
 * end-of-image marker, other formats must decode completely.
 */
async function decode(bytes: Buffer): Promise<SourceImage | null> {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return isCompleteJpeg(bytes) ? { kind: 'jpeg', data: bytes } : null;
  try {
    const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) return null;
    return { kind: 'raw', image: { width: info.width, height: info.height, channels: 3, data } };
  } catch {
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
