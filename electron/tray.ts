// The tray icon: whether PushCam is broadcasting and to how many viewers, and the three things
// a user wants from it without opening the window.
import { join } from 'node:path';
import { Menu, nativeImage, Tray } from 'electron';
import type { ControlState } from '../shared/contract.js';

export interface TrayActions {
  showWindow(): void;
  toggleBroadcast(): void;
  quit(): void;
}

export interface AppTray {
  update(state: ControlState): void;
  destroy(): void;
}

interface TrayStatus {
  live: boolean;
  text: string;
  toggle: string;
}

function trayStatus(state: ControlState): TrayStatus {
  const { broadcast, viewers } = state;
  const toggle = broadcast.state === 'broadcasting' || broadcast.state === 'starting' ? 'Stop broadcasting' : 'Start broadcasting';
  switch (broadcast.state) {
    case 'broadcasting': {
      const watching = viewers.length === 0 ? 'no viewers yet' : viewers.length === 1 ? '1 viewer' : `${viewers.length} viewers`;
      return { live: true, text: `Broadcasting: ${watching}`, toggle };
    }
    case 'starting':
      return { live: true, text: 'Starting…', toggle };
    case 'error':
      return { live: false, text: `Not broadcasting: ${broadcast.error ?? 'error'}`, toggle };
    case 'stopped':
      return { live: false, text: 'Not broadcasting', toggle };
  }
}

/** `iconDir` holds tray.png and tray-live.png (16 px) with their @2x versions, which Electron picks itself. */
export function createTray(iconDir: string, state: ControlState, actions: TrayActions): AppTray {
  const icon = (live: boolean): Electron.NativeImage => nativeImage.createFromPath(join(iconDir, live ? 'tray-live.png' : 'tray.png'));
  const tray = new Tray(icon(false));
  // Linux app indicators send no click; "Show window" in the menu covers it there.
  tray.on('click', actions.showWindow);
  let shown = '';
  const update = (next: ControlState): void => {
    const status = trayStatus(next);
    // State arrives every second while viewers watch; rebuild only what changed.
    if (status.text === shown) return;
    shown = status.text;
    tray.setImage(icon(status.live));
    tray.setToolTip(`PushCam: ${status.text}`);
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: status.text, enabled: false },
        { type: 'separator' },
        { label: 'Show window', click: actions.showWindow },
        { label: status.toggle, click: actions.toggleBroadcast },
        { type: 'separator' },
        { label: 'Quit PushCam', click: actions.quit },
      ]),
    );
  };
  update(state);
  return { update, destroy: () => tray.destroy() };
}
