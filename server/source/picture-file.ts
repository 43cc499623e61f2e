import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

// Reading a picture file another program writes, without trusting what the path names: it may be
// huge, a folder, a FIFO or a device, or be replaced by one of those at any moment.

// What viewers' placeholder pictures (and their /status.json) say: no paths, no system errors
// (those go to the log and the window).
export const UNREADABLE_PICTURE = ['The picture cannot be read'];
export const TOO_BIG_PICTURE = ['The picture is too big to show'];

/**
 * The largest file PushCam reads. The largest picture it serves is 7680x4320 (LIMITS): as a JPEG
 * of pure noise at quality 100 that is 42 MB (measured with sharp), and a PNG of a real scene of
 * that size is smaller; anything bigger is not a camera picture, and reading it would cost its
 * size in memory on every change.
 */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** A path that is there but holds no picture PushCam will read: a folder, a FIFO, a device, a file too big. */
export class NotAPicture extends Error {
  constructor(
    message: string,
    /** What viewers are told instead of `message`. */
    readonly lines: string[],
  ) {
    super(message);
  }
}

/** Throws, in words for the user, unless `stats` are those of a plain file. */
export function checkIsFile(path: string, stats: Stats): void {
  if (stats.isFile()) return;
  throw new NotAPicture(`${path} is ${kindOf(stats)}, not a picture file`, UNREADABLE_PICTURE);
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'not a file';
}

export function checkSize(path: string, size: number): void {
  if (size <= MAX_FILE_BYTES) return;
  throw new NotAPicture(`${path} is ${megabytes(size)}; PushCam reads picture files of up to ${megabytes(MAX_FILE_BYTES)}`, TOO_BIG_PICTURE);
}

function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
}

// Not defined on Windows, which has no FIFOs that a path could name.
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;

/**
 * The bytes of the picture file at `path`, read whole. The checks are made again on the open
 * file, as the path may have been replaced since it was looked at. O_NONBLOCK: opening a FIFO
 * otherwise waits for a writer, holding a thread of Node's pool and this source for ever.
 */
export async function readPicture(path: string): Promise<Buffer> {
  const file = await open(path, constants.O_RDONLY | O_NONBLOCK);
  try {
    const stats = await file.stat();
    checkIsFile(path, stats);
    checkSize(path, stats.size);
    // The size as it was when opened: a file growing meanwhile is read on the next tick.
    const bytes = Buffer.allocUnsafe(stats.size);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await file.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return bytes.subarray(0, filled);
  } finally {
    await file.close();
  }
}
