import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileProblem, isAccessKey, isMissing, writeFileAtomic } from './access-key.js';

// `pushcam serve --ui` keeps its control panel's port and token in the config folder (0600, like
// the access key), so that a panel left open in a browser reconnects by itself when PushCam is
// started again: same address, same token. Without it, each run would have a new one.

export interface PanelAddress {
  port: number;
  token: string;
}

const FILE = 'control-panel.json';

/** The address of the last run's panel; null if there is none (or it is damaged: a new one is made). */
export function loadPanelAddress(dir: string, notice: (line: string) => void): PanelAddress | null {
  try {
    const saved = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as Partial<PanelAddress>;
    if (Number.isInteger(saved.port) && (saved.port as number) > 0 && (saved.port as number) < 65536 && isAccessKey(String(saved.token))) {
      return { port: saved.port as number, token: saved.token as string };
    }
  } catch (err) {
    if (!isMissing(err) && !(err instanceof SyntaxError)) notice(`the control panel's address could not be read (${fileProblem(err)}); it gets a new one`);
  }
  return null;
}

export function savePanelAddress(dir: string, address: PanelAddress, notice: (line: string) => void): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(join(dir, FILE), `${JSON.stringify({ port: address.port, token: address.token })}\n`);
  } catch (err) {
    notice(`the control panel's address could not be saved (${fileProblem(err)}); an open panel will not reconnect after a restart`);
  }
}
