// A broadcasting PushCam with its settings (and guest links) in a folder of the test's, for the
// guest link tests over sockets and in Chromium.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { GuestLinkRow } from '../../shared/contract.js';
import { ControlService } from '../../server/control/service.js';
import { tempDir } from './fixtures.js';

export interface GuestRig {
  service: ControlService;
  dir: string;
  /** `http://127.0.0.1:PORT` + path. */
  at(path: string): string;
}

/** A folder for settings and guest links, removed when the test ends. */
export async function configDir(t: TestContext): Promise<string> {
  const dir = tempDir(t, 'guests');
  return dir;
}

/** Serves the test pattern on a free loopback port, its settings in `dir`; closed when the test ends. */
export async function broadcasting(t: TestContext, dir: string): Promise<GuestRig> {
  const service = await ControlService.create({
    source: { kind: 'pattern' },
    settingsFile: join(dir, 'settings.json'),
    overrides: { port: 0, lanAccess: false, width: 320, height: 180 },
    configDir: dir,
    captureInWindow: false,
    log: () => undefined,
  });
  t.after(() => service.close());
  const state = await service.start();
  assert.equal(state.broadcast.state, 'broadcasting');
  return { service, dir, at: (path) => `http://127.0.0.1:${state.broadcast.port}${path}` };
}

/** The key in a guest link's URL. */
export function keyOf(link: GuestLinkRow): string {
  const key = new URL(link.url).searchParams.get('key');
  assert.ok(key, `no key in "${link.url}"`);
  return key;
}
