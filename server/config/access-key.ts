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
 * The one owner of the access key: the control service asks it for the key and for a new one,
 * and never reads or writes a key itself. SavedKey keeps it in the config folder; FixedKey holds
 * the one `--key` gave for a run.
 */
export interface KeyStore {
  readonly key: string;
  /** Where the key is kept, for the terminal and the window: "in /home/u/.config/pushcam/access-key". */
  readonly kept: string;
  /** false: the key cannot change in this run (`--key`), and renew() says why. */
  readonly renewable: boolean;
  /** Makes a new key and keeps it; the old one stops working. */
  renew(): string;
}

/** `--key K`: the key for this run, in memory only; the saved key, which it overrides, is left alone. */
export class FixedKey implements KeyStore {
  readonly kept = 'set with --key for this run (not saved)';
  readonly renewable = false;
  constructor(readonly key: string) {}

  renew(): string {
    throw new Error('the key was set with --key for this run; to make a new one, start PushCam without --key');
  }
}

/**
 * The key kept in `<dir>/access-key`, created on first run. A damaged file is set aside as
 * `access-key.bad-<time>` (nothing is lost) and a new key is made; `notice` says so. A folder
 * that cannot be read or written does not stop PushCam: the key then lasts until it quits.
 */
export class SavedKey implements KeyStore {
  readonly renewable = true;
  private constructor(
    private readonly dir: string,
    private current: string,
    private saved: boolean,
    private readonly notice: (line: string) => void,
  ) {}

  static load(dir: string, notice: (line: string) => void): SavedKey {
    const path = join(dir, 'access-key');
    let text: string | null = null;
    try {
      text = readFileSync(path, 'utf8').trim();
    } catch (err) {
      if (!isMissing(err)) notice(`the saved access key could not be read (${fileProblem(err)}); a new one is used`);
    }
    if (text !== null && isAccessKey(text)) return new SavedKey(dir, text, true, notice);
    const store = new SavedKey(dir, newAccessKey(), false, notice);
    store.save(() => {
      if (text === null) return;
      const backup = `${path}.bad-${Date.now()}`;
      renameSync(path, backup);
      notice(`the saved access key was damaged; kept it as ${backup} and made a new one`);
    });
    return store;
  }

  get key(): string {
    return this.current;
  }

  get kept(): string {
    return this.saved ? `in ${join(this.dir, 'access-key')}` : 'nowhere: it could not be saved, so its links work until PushCam quits';
  }

  renew(): string {
    this.current = newAccessKey();
    this.save();
    return this.current;
  }

  /** Writes the key for the next run (after `before`, in the same folder); a folder that cannot take it is said in the notice. */
  private save(before: () => void = () => undefined): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      before();
      writeFileAtomic(join(this.dir, 'access-key'), `${this.current}\n`);
      this.saved = true;
    } catch (err) {
      this.saved = false;
      this.notice(`the access key could not be saved (${fileProblem(err)}); its links work until PushCam quits`);
    }
  }
}
