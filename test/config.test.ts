import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FixedKey, isAccessKey, newAccessKey, SavedKey } from '../server/config/access-key.js';
import { configDir } from '../server/config/paths.js';
import { keyMatches } from '../server/http/auth.js';
import { tempDir } from './helpers/fixtures.js';

test('access keys are 128 random bits in base64url', () => {
  const keys = new Set(Array.from({ length: 100 }, newAccessKey));
  assert.equal(keys.size, 100);
  for (const key of keys) assert.ok(isAccessKey(key), key);
  assert.equal(Buffer.from([...keys][0], 'base64url').length, 16);
});

test('the key is created once, kept private, and read back', async (t) => {
  const dir = join(tempDir(t, 'key'), 'nested');
  const notices: string[] = [];
  const { key, kept } = SavedKey.load(dir, (l) => notices.push(l));
  assert.equal(SavedKey.load(dir, (l) => notices.push(l)).key, key);
  assert.equal((await readFile(join(dir, 'access-key'), 'utf8')).trim(), key);
  assert.equal((await stat(join(dir, 'access-key'))).mode & 0o777, 0o600);
  assert.equal(kept, `in ${join(dir, 'access-key')}`);
  assert.deepEqual(notices, []);
});

test('a renewed key replaces the saved one; a key from --key is never renewed and nothing is written', async (t) => {
  const dir = tempDir(t, 'key');
  const saved = SavedKey.load(dir, () => undefined);
  const old = saved.key;
  assert.notEqual(saved.renew(), old);
  assert.equal((await readFile(join(dir, 'access-key'), 'utf8')).trim(), saved.key);

  const fixed = new FixedKey('my-own-key-123');
  assert.equal(fixed.renewable, false);
  assert.throws(() => fixed.renew(), /^Error: the key was set with --key for this run; to make a new one, start PushCam without --key$/);
  assert.equal(fixed.key, 'my-own-key-123');
});

test('keys are compared exactly, whatever their lengths', () => {
  assert.ok(keyMatches('abc', 'abc'));
  assert.ok(!keyMatches('abc', 'abd'));
  assert.ok(!keyMatches('abc', 'abcd'));
  assert.ok(!keyMatches('abc', ''));
});

test('the config folder follows each platform', () => {
  assert.equal(configDir({ PUSHCAM_CONFIG_DIR: '/x' }, 'linux'), '/x');
  assert.equal(configDir({ XDG_CONFIG_HOME: '/xdg' }, 'linux'), '/xdg/pushcam');
  assert.match(configDir({}, 'linux'), /\.config\/pushcam$/);
  assert.match(configDir({ APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, 'win32'), /Roaming.PushCam$/);
  assert.match(configDir({}, 'darwin'), /Library\/Application Support\/PushCam$/);
});
