import './offline.js';
import type { TestContext } from 'node:test';
import type { Settings } from '../../shared/contract.js';
import { ControlService } from '../../server/control/service.js';
import { PatternSource } from '../../server/source/pattern.js';
import { startPushCam, type PushCam, type PushCamOptions } from '../../server/pushcam.js';
import { tempDir } from './fixtures.js';

export const TEST_KEY = 'test-key-0123456789abcdef';

export interface TestServer extends PushCam {
  /** `http://127.0.0.1:PORT` (https with a certificate) + path, with the key added to the query. */
  url(path: string): string;
  /** The same without the key. */
  bare(path: string): string;
  logs: string[];
}

/** A real PushCam on a free loopback port, closed when the test ends. */
export async function startTestServer(t: TestContext, o: Partial<PushCamOptions> = {}): Promise<TestServer> {
  const logs: string[] = [];
  const pushcam = await startPushCam({
    source: new PatternSource({ width: 160, height: 120, intervalMs: 40 }),
    host: '127.0.0.1',
    port: 0,
    key: TEST_KEY,
    log: (line) => logs.push(line),
    ...o,
  });
  t.after(() => pushcam.close());
  const bare = (path: string): string => `${pushcam.secure ? 'https' : 'http'}://127.0.0.1:${pushcam.port}${path}`;
  const url = (path: string): string => {
    if (pushcam.key === null) return bare(path);
    return bare(path) + (path.includes('?') ? '&' : '?') + `key=${pushcam.key}`;
  };
  return { ...pushcam, url, bare, logs };
}

/** Polls `check` until it is true; fails with `what` after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The window's core (a ControlService) on loopback, not broadcasting; closed, with its config folder removed, when the test ends. */
export async function createTestService(t: TestContext, initial: Partial<Settings> = {}): Promise<ControlService> {
  const dir = tempDir(t, 'service');
  const service = await ControlService.create({
    settingsFile: null,
    overrides: { port: 0, lanAccess: false, ...initial },
    configDir: dir,
    captureInWindow: true,
    log: () => undefined,
  });
  t.after(() => service.close());
  return service;
}

/** A test service broadcasting on a free port, fed 320x180 camera frames whenever it asks for capture. */
export async function startTestService(t: TestContext, initial: Partial<Settings> = {}): Promise<ControlService> {
  const service = await createTestService(t, initial);
  let shade = 0;
  const camera = setInterval(() => {
    if (!service.getState().capture.active) return;
    shade = (shade + 10) % 256;
    service.acceptFrame({ meta: { format: 'pixels', width: 320, height: 180, channels: 3 }, data: Buffer.alloc(320 * 180 * 3, shade) });
  }, 50);
  t.after(() => clearInterval(camera));
  await service.start();
  return service;
}
