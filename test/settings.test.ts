import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { SettingsStore, validateSettingsPatch } from '../server/control/settings.js';
import { DEFAULT_SETTINGS } from '../shared/settings-table.js';
import { tempDir } from './helpers/fixtures.js';

const tempFile = (t: TestContext): string => join(tempDir(t, 'settings'), 'settings.json');

test('no file: defaults; an update is written and read back after a restart', async (t) => {
  const file = tempFile(t);
  const notices: string[] = [];
  const store = SettingsStore.load(file, (n) => notices.push(n));
  assert.deepEqual(store.settings, DEFAULT_SETTINGS);
  store.update({ quality: 55, mirror: true, text: 'Hall' });
  const again = SettingsStore.load(file, (n) => notices.push(n));
  assert.deepEqual(again.settings, { ...DEFAULT_SETTINGS, quality: 55, mirror: true, text: 'Hall' });
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), again.settings);
  assert.deepEqual(notices, []);
  assert.deepEqual((await readdir(join(file, '..'))).sort(), ['settings.json'], 'no temporary files left');
});

test('a damaged file is kept aside, the defaults are used, and the user is told', async (t) => {
  const file = tempFile(t);
  await writeFile(file, '{"quality": 55, "mirr');
  const notices: string[] = [];
  const store = SettingsStore.load(file, (n) => notices.push(n));
  assert.deepEqual(store.settings, DEFAULT_SETTINGS);
  assert.equal(notices.length, 1);
  assert.match(notices[0], /settings file was damaged; it was kept as .*settings\.json\.bad-\d+ and the defaults are used/);
  const backup = (await readdir(join(file, '..'))).find((f) => f.startsWith('settings.json.bad-'))!;
  assert.equal(await readFile(join(file, '..', backup), 'utf8'), '{"quality": 55, "mirr', 'nothing lost');
});

test('values that fail their check fall back one by one; unknown ones are dropped', async (t) => {
  const file = tempFile(t);
  await writeFile(file, JSON.stringify({ quality: 500, port: 9000, rotate: 45, mirror: 'yes', extra: 1 }));
  const store = SettingsStore.load(file, () => {});
  assert.deepEqual(store.settings, { ...DEFAULT_SETTINGS, port: 9000 });
});

test('inherited names in the file are dropped like unknown ones, not taken for damage', async (t) => {
  const file = tempFile(t);
  await writeFile(file, '{"valueOf": 1, "constructor": 2, "__proto__": {"quality": 1}, "quality": 55}');
  const notices: string[] = [];
  const store = SettingsStore.load(file, (n) => notices.push(n));
  assert.deepEqual(store.settings, { ...DEFAULT_SETTINGS, quality: 55 });
  assert.deepEqual(notices, []);
});

test('a setting saved under its former name (maxClients) is read, and saved under its name now', async (t) => {
  const file = tempFile(t);
  await writeFile(file, JSON.stringify({ maxClients: 5, quality: 55 }));
  const store = SettingsStore.load(file, () => {});
  assert.deepEqual(store.settings, { ...DEFAULT_SETTINGS, maxViewers: 5, quality: 55 });
  store.update({ mirror: true });
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { ...DEFAULT_SETTINGS, maxViewers: 5, quality: 55, mirror: true });
  await writeFile(file, JSON.stringify({ maxClients: 5, maxViewers: 7 }));
  assert.equal(SettingsStore.load(file, () => {}).settings.maxViewers, 7, 'the name now wins over the former one');
});

test('a settings change is checked, with a one-line reason naming the setting', () => {
  assert.deepEqual(validateSettingsPatch({ quality: 70, rotate: 90 }), { quality: 70, rotate: 90 });
  const bad: [unknown, RegExp][] = [
    [{ quality: 0 }, /^quality must be a whole number from 1 to 100$/],
    [{ port: 70000 }, /^port must be a whole number from 0 to 65535$/],
    [{ intervalMs: 2.5 }, /^intervalMs must be a whole number/],
    [{ rotate: 45 }, /^rotate must be 0, 90, 180 or 270$/],
    [{ mirror: 'yes' }, /^mirror must be true or false$/],
    [{ text: 'x'.repeat(201) }, /^text must be text of at most 200 characters$/],
    [{ name: 'x'.repeat(61) }, /^name must be text of at most 60 characters$/],
    [{ name: 'two\nlines' }, /^name must be one line of text$/],
    [{ hack: 1 }, /^unknown setting "hack"$/],
    [null, /^settings must be an object$/],
    [[1], /^settings must be an object$/],
  ];
  for (const [patch, reason] of bad) assert.throws(() => validateSettingsPatch(patch), { message: reason }, JSON.stringify(patch));
});

test('in-memory settings (the command line) never touch a file', () => {
  const store = SettingsStore.inMemory({ quality: 33 });
  assert.equal(store.update({ mirror: true }).quality, 33);
  assert.throws(() => SettingsStore.inMemory({ quality: 0 }), /quality/);
});
