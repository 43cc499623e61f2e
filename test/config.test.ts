import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isAccessKey, loadAccessKey, newAccessKey } from '../server/config/access-key.js';
import { configDir } from '../server/config/paths.js';
import { keyMatches } from '../server/http/auth.js';

test('access keys are 128 random bits in base64url', () => {
  const keys = new Set(Array.from({ length: 100 }, newAccessKey));
  assert.equal(keys.size, 100);
  for (const key of keys) assert.ok(isAccessKey(key), key);
  assert.equal(Buffer.from([...keys][0], 'base64url').length, 16);
});

test('the key is created once, kept private, and read back', async () => {
  const dir = join(await mkdtemp(join(tmpdir(), 'pushcam-key-')), 'nested');
  const notices: string[] = [];
  const key = loadAccessKey(dir, (l) => notices.push(l));
  assert.equal(loadAccessKey(dir, (l) => notices.push(l)), key);
  assert.equal((await readFile(join(dir, 'access-key'), 'utf8')).trim(), key);
  assert.equal((await stat(join(dir, 'access-key'))).mode & 0o777, 0o600);
  assert.deepEqual(notices, []);
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
