import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KEY_SHAPE = /^[A-Za-z0-9_-]{22}$/;

/** 128 random bits, base64url: 22 characters that survive any URL. */
export function newAccessKey(): string {
  return randomBytes(16).toString('base64url');
}

export function isAccessKey(text: string): boolean {
  return KEY_SHAPE.test(text);
}

/** Writes to a temporary file and renames it over the target, so no reader sees half a file. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

/**
 * The key kept in `<dir>/access-key`, created on first run. A damaged file is set aside as
 * `access-key.bad-<time>` (nothing is lost) and a new key is made; `notice` says so.
 */
export function loadAccessKey(dir: string, notice: (line: string) => void): string {
  const path = join(dir, 'access-key');
  let text: string | null = null;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== null && isAccessKey(text)) return text;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (text !== null) {
    const backup = `${path}.bad-${Date.now()}`;
    renameSync(path, backup);
    notice(`pushcam: the saved access key was damaged; kept it as ${backup} and made a new one`);
  }
  const key = newAccessKey();
  writeFileAtomic(path, `${key}\n`);
  return key;
}
