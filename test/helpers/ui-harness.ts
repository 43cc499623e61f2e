import './offline.js';
// The PushCam window as the desktop app runs it, minus Electron: the real control service (with
// its settings file and access key in a temporary folder), the loopback control server, and the
// window page in Chromium with the fake camera, capturing in the window.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ControlService } from '../../server/control/service.js';
import { startControlServer, type ControlServer } from '../../server/control/ws-server.js';
import type { ControlState, Settings } from '../../shared/contract.js';
import { launchChromium, newPage } from './chromium.js';
import { eventually } from './server.js';

export interface UiHarness {
  service: ControlService;
  control: ControlServer;
  browser: Browser;
  page: Page;
  /** Holds settings.json and the access key; close() keeps it for a restart (removeHarnessDir). */
  dir: string;
  settingsFile: string;
  logs: string[];
  state(): ControlState;
  /** Waits until the core's state passes `check`; fails naming `what`. */
  waitForState(check: (state: ControlState) => boolean, what: string, timeoutMs?: number): Promise<ControlState>;
  /** Closes the window, the control server and the service; again is a no-op. */
  close(): Promise<void>;
}

export interface UiHarnessOptions {
  /** A folder from an earlier harness, to start again with its settings and key. */
  dir?: string;
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  /**
   * Settings to apply before the window opens. A fresh folder gets port 0 (any free port) unless
   * told otherwise, so tests never fight over 8080.
   */
  settings?: Partial<Settings>;
}

export async function startUiHarness(o: UiHarnessOptions = {}): Promise<UiHarness> {
  const dir = o.dir ?? (await mkdtemp(join(tmpdir(), 'pushcam-ui-')));
  const settingsFile = join(dir, 'settings.json');
  const logs: string[] = [];
  const log = (line: string): void => void logs.push(line);
  const service = await ControlService.create({ settingsFile, configDir: dir, captureInWindow: true, log });
  await service.updateSettings(o.settings ?? (o.dir ? {} : { port: 0 }));
  const control = await startControlServer(service, { log });
  const browser = await launchChromium();
  const state = (): ControlState => service.getState();
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await browser.close();
      await control.close();
      await service.close();
    })());
  try {
    const page = await newPage(browser, { viewport: o.viewport ?? { width: 1280, height: 800 }, colorScheme: o.colorScheme ?? 'light' });
    page.on('console', (message) => log(`page ${message.type()}: ${message.text()}`));
    page.on('pageerror', (err) => log(`page error: ${err.message}`));
    await page.goto(control.panelUrl);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 10_000 });
    return {
      service,
      control,
      browser,
      page,
      dir,
      settingsFile,
      logs,
      state,
      async waitForState(check, what, timeoutMs = 10_000) {
        await eventually(() => check(state()), what, timeoutMs);
        return state();
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Removes a harness's folder once no harness will start from it again. */
export function removeHarnessDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}
