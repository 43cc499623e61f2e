import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../config/access-key.js';
import { outOfRange } from '../limits.js';
import type { Settings } from './contract.js';

export const DEFAULT_SETTINGS: Settings = {
  name: '',
  cameraId: '',
  cameraLabel: '',
  width: 1280,
  height: 720,
  intervalMs: 100,
  quality: 80,
  port: 8080,
  lanAccess: true,
  openAccess: false,
  maxClients: 32,
  mirror: false,
  rotate: 0,
  timestamp: false,
  text: '',
  startOnLaunch: false,
};

type Check = (value: unknown) => string | null;
/** The longest camera name: a browser tab shows fewer characters than this anyway. */
export const NAME_MAX = 60;
const isBool: Check = (v) => (typeof v === 'boolean' ? null : 'must be true or false');
const isText =
  (max: number): Check =>
  (v) =>
    typeof v === 'string' && v.length <= max ? null : `must be text of at most ${max} characters`;

const CHECKS: { [K in keyof Settings]: Check } = {
  name: (v) => isText(NAME_MAX)(v) ?? (/[\p{Cc}]/u.test(v as string) ? 'must be one line of text' : null),
  cameraId: isText(512),
  cameraLabel: isText(512),
  width: (v) => outOfRange('width', v),
  height: (v) => outOfRange('height', v),
  intervalMs: (v) => outOfRange('intervalMs', v),
  quality: (v) => outOfRange('quality', v),
  port: (v) => outOfRange('port', v),
  lanAccess: isBool,
  openAccess: isBool,
  maxClients: (v) => outOfRange('maxClients', v),
  mirror: isBool,
  rotate: (v) => ([0, 90, 180, 270].includes(v as number) ? null : 'must be 0, 90, 180 or 270'),
  timestamp: isBool,
  text: isText(200),
  startOnLaunch: isBool,
};

/** What is wrong with one setting's value ("must be ..."), or null. */
export function checkSetting<K extends keyof Settings>(name: K, value: unknown): string | null {
  return CHECKS[name](value);
}

/** Checks a settings change from the window; throws with a one-line reason naming the setting. */
export function validateSettingsPatch(patch: unknown): Partial<Settings> {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new Error('settings must be an object');
  for (const [name, value] of Object.entries(patch)) {
    const check = CHECKS[name as keyof Settings];
    if (!check) throw new Error(`unknown setting "${name}"`);
    const problem = check(value);
    if (problem) throw new Error(`${name} ${problem}`);
  }
  return patch as Partial<Settings>;
}

/**
 * Settings kept in a JSON file, written atomically. A damaged file is never lost: it is set
 * aside as `<file>.bad-<time>`, the defaults are used, and `notice` says so. Settings that fail
 * their check (an old or hand-edited file) fall back to their defaults one by one.
 */
export class SettingsStore {
  private constructor(
    private readonly file: string | null,
    public settings: Settings,
  ) {}

  /** Settings that live only in memory (the command line's, which must not overwrite the app's). */
  static inMemory(settings: Partial<Settings>): SettingsStore {
    return new SettingsStore(null, { ...DEFAULT_SETTINGS, ...validateSettingsPatch(settings) });
  }

  static load(file: string, notice: (line: string) => void): SettingsStore {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return new SettingsStore(file, { ...DEFAULT_SETTINGS });
    }
    try {
      return new SettingsStore(file, mergeValid(JSON.parse(text)));
    } catch {
      const backup = `${file}.bad-${Date.now()}`;
      renameSync(file, backup);
      notice(`Your settings file was damaged; it was kept as ${backup} and the defaults are used.`);
      return new SettingsStore(file, { ...DEFAULT_SETTINGS });
    }
  }

  update(patch: Partial<Settings>): Settings {
    this.settings = { ...this.settings, ...validateSettingsPatch(patch) };
    if (this.file) {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileAtomic(this.file, `${JSON.stringify(this.settings, null, 2)}\n`);
    }
    return this.settings;
  }
}

function mergeValid(saved: unknown): Settings {
  if (typeof saved !== 'object' || saved === null || Array.isArray(saved)) throw new Error('not an object');
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [name, value] of Object.entries(saved)) {
    const check = CHECKS[name as keyof Settings];
    if (check && check(value) === null) settings[name] = value;
  }
  return settings as unknown as Settings;
}
