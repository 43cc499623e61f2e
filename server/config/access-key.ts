import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
  try {
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** No such file: nothing there, or a folder on its path is missing (ENOENT) or a file (ENOTDIR). */
export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A file-system error in one line for the user: "EROFS: read-only file system, open '/x'". */
export function fileProblem(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n', 1)[0];
}

/**
 * The key kept in `<dir>/access-key`, created on first run. A damaged file is set aside as
 * `access-key.bad-<time>` (nothing is lost) and a new key is made; `notice` says so. A folder
 * that cannot be read or written does not stop PushCam: the key then lasts until it quits.
 */
export function loadAccessKey(dir: string, notice: (line: string) => void): string {
  const path = join(dir, 'access-key');
  let text: string | null = null;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if (!isMissing(err)) notice(`the saved access key could not be read (${fileProblem(err)}); a new one is used`);
  }
  if (text !== null && isAccessKey(text)) return text;
  const key = newAccessKey();
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (text !== null) {
      const backup = `${path}.bad-${Date.now()}`;
      renameSync(path, backup);
      notice(`the saved access key was damaged; kept it as ${backup} and made a new one`);
    }
    writeFileAtomic(path, `${key}\n`);
  } catch (err) {
    notice(unsavedKey(err));
  }
  return key;
}

/** Keeps a new key for the next run; a folder that cannot take it is said in the notice. */
export function saveAccessKey(dir: string, key: string, notice: (line: string) => void): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(join(dir, 'access-key'), `${key}\n`);
  } catch (err) {
    notice(unsavedKey(err));
  }
}

function unsavedKey(err: unknown): string {
  return `the access key could not be saved (${fileProblem(err)}); its links work until PushCam quits`;
}
