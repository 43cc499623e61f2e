// Faults of `serve --source camera`'s capture browser, with real Chromium and its fake camera:
// the browser killed, its page's renderer killed, PushCam itself killed with SIGKILL. Each must
// leave viewers told why (the "camera unavailable" picture, `error` in the state), heal by
// itself, and leave no process or token behind. The figures go to the test's diagnostics.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { launchCapturePage, removeStaleProfiles, RESTARTING } from '../server/capture/headless-browser.js';
import { ControlService } from '../server/control/service.js';
import { startControlServer } from '../server/control/ws-server.js';
import { CHROMIUM_PATH } from './helpers/chromium.js';
import { MjpegClient } from './helpers/mjpeg-client.js';
import { processes, processGroup } from './helpers/processes.js';
import { eventually } from './helpers/server.js';
import { tempDir } from './helpers/fixtures.js';

const BIN = join(import.meta.dirname, '../bin/pushcam.js');
/** Short waits, so that a test sees a restart and its back-off within seconds. */
const QUICK_RESTART = { firstMs: 300, maxMs: 1200, stableMs: 60_000 };

/** The core behind its control server, with a headless capture browser wired as `serve --source camera` wires it. */
async function captureRig(t: TestContext) {
  const logs: string[] = [];
  const log = (line: string): void => void logs.push(line);
  const configDir = tempDir(t, 'faults');
  const service = await ControlService.create({
    settingsFile: null,
    overrides: { width: 320, height: 240, intervalMs: 100 },
    configDir,
    key: 'faults-test-key-0123456789',
    host: '127.0.0.1',
    captureInWindow: false,
    log,
  });
  const control = await startControlServer(service, { log });
  const page = launchCapturePage({
    browser: CHROMIUM_PATH,
    url: control.capturePageUrl,
    fakeCamera: true,
    log,
    onFault: (message) => service.reportCamera({ state: 'error', fault: 'other', message }),
    restart: QUICK_RESTART,
  });
  const release = service.hub.hold();
  t.after(async () => {
    release();
    await page.close();
    await control.close();
    await service.close();
    rmSync(configDir, { recursive: true, force: true });
  });
  const seq = (): number => service.hub.latest?.seq ?? 0;
  await eventually(() => seq() >= 3, 'camera frames from the headless browser', 30_000);
  return { service, control, page, logs, seq };
}

/** Waits for the state to say error, then for frames again; answers the milliseconds from `since` to each. */
async function recovery(rig: Awaited<ReturnType<typeof captureRig>>, since: number): Promise<{ errorMs: number; framesMs: number }> {
  const { service, seq } = rig;
  await eventually(() => service.getState().source.state === 'error', 'the error state', 10_000);
  const errorMs = performance.now() - since;
  assert.deepEqual(service.getState().source, { kind: 'camera', state: 'error', error: RESTARTING });
  const placeholder = seq();
  await eventually(() => service.getState().source.state === 'running', 'capture to resume', 30_000);
  await eventually(() => seq() >= placeholder + 3, 'camera frames again', 10_000);
  return { errorMs, framesMs: performance.now() - since };
}

test('capture browser faults', async (t) => {
  await t.test("hands the page's token over the DevTools pipe: it is on no browser process's command line", async (t) => {
    const { control, page } = await captureRig(t);
    const group = processGroup(page.pid!);
    assert.ok(group.length >= 4, `${group.length} browser processes`);
    const holders = processes().filter((p) => p.cmdline.includes(control.token));
    assert.deepEqual(holders, [], 'no process shows the token');
    t.diagnostic(`${group.length} browser processes, none with the token on its command line`);
  });

  await t.test('the browser killed: error state and the "camera unavailable" picture at once, a new browser after the back-off, frames again', async (t) => {
    const rig = await captureRig(t);
    const killed = performance.now();
    process.kill(rig.page.pid!, 'SIGKILL');
    const { errorMs, framesMs } = await recovery(rig, killed);
    assert.deepEqual(
      rig.logs.filter((line) => line.includes('capture browser')),
      ['the capture browser exited (SIGKILL); restarting it in 0.3 s'],
    );
    t.diagnostic(`browser SIGKILL: error state after ${Math.round(errorMs)} ms, camera frames again after ${Math.round(framesMs)} ms (back-off 300 ms)`);

    // Again at once: the back-off doubles.
    const again = performance.now();
    process.kill(rig.page.pid!, 'SIGKILL');
    await recovery(rig, again);
    assert.match(rig.logs.filter((line) => line.includes('capture browser')).at(-1)!, /restarting it in 0\.6 s$/);
  });

  await t.test("the page's renderer killed: the same, and the crash is what the log says", async (t) => {
    const rig = await captureRig(t);
    const renderers = processGroup(rig.page.pid!).filter((p) => p.cmdline.includes('--type=renderer'));
    assert.ok(renderers.length > 0, 'renderer processes');
    const killed = performance.now();
    for (const renderer of renderers) process.kill(renderer.pid, 'SIGKILL');
    const { errorMs, framesMs } = await recovery(rig, killed);
    assert.ok(
      rig.logs.some((line) => /^the capture browser's page crashed \(\w+\); restarting it in 0\.3 s$/.test(line)),
      rig.logs.join('\n'),
    );
    t.diagnostic(`renderer SIGKILL: error state after ${Math.round(errorMs)} ms, camera frames again after ${Math.round(framesMs)} ms`);
  });

  await t.test('kill -9 of PushCam takes its capture browser with it (10 browser processes outlived it before)', async (t) => {
    const configDir = tempDir(t, 'faults-cli');
    const args = ['serve', '--source', 'camera', '--fake-camera', '--browser', CHROMIUM_PATH, '--port', '0', '--host', '127.0.0.1', '--size', '320x240'];
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, PUSHCAM_CONFIG_DIR: configDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await eventually(() => /Viewer: (\S+)/.test(output), 'the viewer link', 15_000);
    const viewer = await MjpegClient.open(/Viewer: (\S+)/.exec(output)![1].replace('/?', '/stream.mjpg?'));
    t.after(() => viewer.close());
    await viewer.waitForParts(3, 30_000);

    const profile = `pushcam-browser-${child.pid}-`;
    const browser = processes().find((p) => p.cmdline.includes(join(tmpdir(), profile)) && !p.cmdline.includes('--type='));
    assert.ok(browser, 'the capture browser runs');
    const group = processGroup(browser.pgid);
    assert.ok(group.length >= 4, `${group.length} browser processes`);
    const killed = performance.now();
    child.kill('SIGKILL');
    await exited;
    await eventually(() => processGroup(browser.pgid).length === 0, 'every browser process to end', 10_000);
    t.diagnostic(`${group.length} browser processes, all gone ${Math.round(performance.now() - killed)} ms after PushCam's SIGKILL`);

    // What a kill -9 cannot clean, the next PushCam does.
    const left = readdirSync(tmpdir()).filter((name) => name.startsWith(profile));
    assert.equal(left.length, 1, 'the dead PushCam left its profile');
    removeStaleProfiles();
    assert.ok(!existsSync(join(tmpdir(), left[0])), 'removed');
  });
});
