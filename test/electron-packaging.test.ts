// The electron-builder configuration, checked the way `electron-builder --config` reads it (its
// own loader and JSON-schema validation), plus what the schema cannot know: the files it names
// exist and say what the app needs. Building installers needs tools downloaded from the internet,
// so `npm run dist` itself is not run here.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FuseV1Options } from '@electron/fuses';
import { PlatformPackager } from 'app-builder-lib';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import { DebugLogger, setPrinter } from 'builder-util';
import type { Configuration } from 'electron-builder';
import sharp from 'sharp';

const ROOT = join(import.meta.dirname, '..');
const CONFIG = 'build/electron-builder.yml';

// electron-builder logs "loaded configuration" to stdout, where node:test reads its own reports.
setPrinter(() => undefined);

function loadConfig(): Promise<Configuration> {
  return getConfig(ROOT, CONFIG, null);
}

test('packaging: the config passes electron-builder\'s own schema validation', async () => {
  await validateConfiguration(await loadConfig(), new DebugLogger(false));
});

test('packaging: a misspelt option would be caught by that validation', async () => {
  const config = { ...(await loadConfig()), linux: { target: ['AppImage'], categroy: 'Video' } } as Configuration;
  await assert.rejects(validateConfiguration(config, new DebugLogger(false)), /configuration\.linux/);
});

test('packaging: targets, identity, sharp unpacked, no native rebuild, installers outside dist/', async () => {
  const config = await loadConfig();
  assert.equal(config.appId, 'app.pushcam.desktop');
  assert.equal(config.productName, 'PushCam');
  assert.deepEqual(config.linux?.target, ['AppImage', 'deb', 'tar.gz']);
  assert.equal(config.linux?.category, 'Video');
  assert.equal(config.win?.target, 'nsis');
  assert.equal(config.mac?.target, 'dmg');
  assert.deepEqual(config.asarUnpack, ['node_modules/sharp/**', 'node_modules/@img/**']);
  assert.equal(config.npmRebuild, false);
  assert.notEqual(config.directories?.output, 'dist', 'dist/ holds the bundles');
});

test("packaging: Electron's fuses are set as the security checklist asks, in the form electron-builder flips them", async () => {
  const config = await loadConfig();
  // What the packager hands @electron/fuses right before signing (PlatformPackager.doAddElectronFuses).
  const generate = (PlatformPackager.prototype as unknown as { generateFuseConfig(fuses: unknown): Promise<Record<number, boolean>> }).generateFuseConfig;
  const flipped = await generate.call(null, config.electronFuses);
  assert.deepEqual(
    {
      runAsNode: flipped[FuseV1Options.RunAsNode],
      nodeOptions: flipped[FuseV1Options.EnableNodeOptionsEnvironmentVariable],
      inspect: flipped[FuseV1Options.EnableNodeCliInspectArguments],
      cookieEncryption: flipped[FuseV1Options.EnableCookieEncryption],
      asarIntegrity: flipped[FuseV1Options.EnableEmbeddedAsarIntegrityValidation],
      onlyFromAsar: flipped[FuseV1Options.OnlyLoadAppFromAsar],
      fileProtocolPrivileges: flipped[FuseV1Options.GrantFileProtocolExtraPrivileges],
    },
    { runAsNode: false, nodeOptions: false, inspect: false, cookieEncryption: true, asarIntegrity: true, onlyFromAsar: true, fileProtocolPrivileges: false },
  );
  assert.notEqual(config.asar, false, 'the fuses that guard app.asar need one');
  const misspelt = { ...config, electronFuses: { ...config.electronFuses, runAsNodes: false } } as Configuration;
  await assert.rejects(validateConfiguration(misspelt, new DebugLogger(false)), /electronFuses/, 'the schema knows every fuse');
});

test('packaging: macOS gets the camera entitlement, the hardened runtime and the camera usage text', async () => {
  const mac = (await loadConfig()).mac;
  assert.equal(mac?.hardenedRuntime, true);
  assert.equal(mac?.entitlements, 'build/entitlements.mac.plist');
  assert.equal(mac?.entitlementsInherit, 'build/entitlements.mac.plist');
  assert.match(String(mac?.extendInfo?.NSCameraUsageDescription), /camera/);
  const plist = readFileSync(join(ROOT, 'build/entitlements.mac.plist'), 'utf8');
  for (const key of ['com.apple.security.device.camera', 'com.apple.security.cs.allow-jit']) {
    assert.match(plist, new RegExp(`<key>${key.replaceAll('.', '\\.')}</key>\\s*<true/>`), key);
  }
  assert.doesNotMatch(plist, /audio-input/, 'no microphone');
  // electron-builder signs sharp's binaries with the app's identity; library validation stays on.
  assert.doesNotMatch(plist, /<key>com\.apple\.security\.cs\.disable-library-validation<\/key>/);
});

test('packaging: the icons exist at their sizes (electron-builder makes the .ico and .icns from 512 px)', async () => {
  for (const size of [16, 32, 256, 512]) {
    const metadata = await sharp(join(ROOT, `build/icons/${size}x${size}.png`)).metadata();
    assert.deepEqual([metadata.width, metadata.height], [size, size]);
  }
  for (const [name, size] of [['tray.png', 16], ['tray@2x.png', 32], ['tray-live.png', 16], ['tray-live@2x.png', 32]] as const) {
    assert.equal((await sharp(join(ROOT, 'build/icons', name)).metadata()).width, size, name);
  }
});

test('packaging: the app\'s entry point is among the packaged files', async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main?: string };
  assert.equal(pkg.main, 'dist/electron/main.cjs');
  const files = JSON.stringify((await loadConfig()).files);
  for (const glob of ['dist/electron/**', 'dist/renderer/**', 'package.json']) assert.ok(files.includes(glob), glob);
  assert.ok(existsSync(join(ROOT, 'electron/main.ts')));
});
