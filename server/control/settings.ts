import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileProblem, isMissing, writeFileAtomic } from '../config/access-key.js';
import { DEFAULT_SETTINGS, FORMER_NAMES, type SettingName, type Settings, checkSetting } from '../../shared/settings-table.js';
import { plainObject } from '../../shared/values.js';


/** Whether `name` is a setting; not for any other name, inherited ones included (`__proto__`, `constructor`). */
function isSetting(name: string): name is SettingName {
  return Object.hasOwn(DEFAULT_SETTINGS, name);
}

/** Checks a settings change from the window; throws with a one-line reason naming the setting. Answers a copy of it. */
export function validateSettingsPatch(patch: unknown): Partial<Settings> {
  const changes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(plainObject(patch, 'settings'))) {
    if (!isSetting(name)) throw new Error(`unknown setting "${name.slice(0, 64)}"`);
    const problem = checkSetting(name, value);
    if (problem) throw new Error(`${name} ${problem}`);
    changes[name] = value;
  }
  return changes as Partial<Settings>;
}

/**
 * Settings kept in a JSON file, written atomically. A damaged file is never lost: it is set
 * aside as `<file>.bad-<time>`, the defaults are used, and `notice` says so. Settings that fail
 * their check (an old or hand-edited file) fall back to their defaults one by one. A file or
 * folder that cannot be read or written never stops a change: it applies until PushCam quits,
 * and `notice` says so once.
 *
 * Overrides are what the command line set for this run: they win over the saved settings and are
 * never written. A change from the window wins over both, and is saved.
 */
export class SettingsStore {
  private saveProblem = '';

  private constructor(
    private readonly file: string | null,
    private saved: Settings,
    private readonly overrides: Partial<Settings>,
    private readonly notice: (line: string) => void,
  ) {}

  /** Settings that live only in memory: the defaults and the overrides (plain `pushcam serve`, tests). */
  static inMemory(overrides: Partial<Settings>): SettingsStore {
    return new SettingsStore(null, { ...DEFAULT_SETTINGS }, validateSettingsPatch(overrides), () => undefined);
  }

  static load(file: string, notice: (line: string) => void, overrides: Partial<Settings> = {}): SettingsStore {
    const open = (saved: Settings): SettingsStore => new SettingsStore(file, saved, validateSettingsPatch(overrides), notice);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (!isMissing(err)) notice(`Your settings could not be read (${fileProblem(err)}); the defaults are used.`);
      return open({ ...DEFAULT_SETTINGS });
    }
    try {
      return open(mergeValid(JSON.parse(text)));
    } catch {
      const backup = `${file}.bad-${Date.now()}`;
      try {
        renameSync(file, backup);
        notice(`Your settings file was damaged; it was kept as ${backup} and the defaults are used.`);
      } catch (err) {
        notice(`Your settings file was damaged and could not be set aside (${fileProblem(err)}); the defaults are used.`);
      }
      return open({ ...DEFAULT_SETTINGS });
    }
  }

  /** What applies now: the saved settings with this run's overrides on top. */
  get settings(): Settings {
    return { ...this.saved, ...this.overrides };
  }

  update(patch: Partial<Settings>): Settings {
    const changes = validateSettingsPatch(patch);
    this.saved = { ...this.saved, ...changes };
    for (const name of Object.keys(changes) as (keyof Settings)[]) delete this.overrides[name];
    if (this.file) this.save(this.file);
    return this.settings;
  }

  private save(file: string): void {
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileAtomic(file, `${JSON.stringify(this.saved, null, 2)}\n`);
      this.saveProblem = '';
    } catch (err) {
      const problem = fileProblem(err);
      if (problem !== this.saveProblem) this.notice(`Your settings could not be saved (${problem}); changes apply until PushCam quits.`);
      this.saveProblem = problem;
    }
  }
}

/** The saved settings over the defaults; a setting saved under its former name counts unless its name now is there too. */
function mergeValid(saved: unknown): Settings {
  if (typeof saved !== 'object' || saved === null || Array.isArray(saved)) throw new Error('not an object');
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [savedName, value] of Object.entries(saved)) {
    const renamed = FORMER_NAMES.get(savedName);
    const name = renamed !== undefined && !Object.hasOwn(saved, renamed) ? renamed : savedName;
    if (isSetting(name) && checkSetting(name, value) === null) settings[name] = value;
  }
  return settings as unknown as Settings;
}
