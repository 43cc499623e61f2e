// The PushCam window: one page on the control contract, whether the Electron preload carries it
// or the loopback WebSocket does. Every part binds to its static elements in index.html and is
// handed each new state; nothing is rebuilt that the user might be using.

import type { ControlClient, ControlState, Settings, Stats } from '../../shared/contract.js';
import { Capture } from '../capture/capture.js';
import { bindBroadcast } from './broadcast.js';
import { bindCameraField } from './camera-field.js';
import { controlClient } from './client.js';
import { bindConnection, showLost } from './connection.js';
import { errorMessage } from './dom.js';
import { bindGuests } from './guests.js';
import { bindNotices } from './notices.js';
import { bindPreview } from './preview.js';
import { bindSettings } from './settings.js';
import { bindShare } from './share.js';
import { bindStats } from './stats.js';
import { bindViewers } from './viewers.js';

function bindWindow(client: ControlClient): { show(state: ControlState): void; stats(stats: Stats): void } {
  const apply = (patch: Partial<Settings>): Promise<ControlState> => client.call('updateSettings', patch);
  const settings = bindSettings(apply);
  const parts = [bindBroadcast(client, apply), bindCameraField(apply), bindShare(client, apply), bindGuests(client), bindViewers(client), bindNotices(), settings.show];
  const showStats = bindStats();
  return {
    show: (state) => {
      for (const show of parts) show(state);
    },
    stats: (stats) => {
      showStats(stats);
      settings.stats(stats);
    },
  };
}

async function main(): Promise<void> {
  const client = await controlClient();
  bindConnection(client);
  const { show, stats } = bindWindow(client);
  client.on('state', show);
  client.on('stats', stats);
  bindPreview(client);
  const state = await client.call('getState');
  show(state);
  // In the desktop app this window is the camera; otherwise a headless capture page is.
  if (state.captureInWindow) new Capture(client);
  document.body.dataset.ready = 'true';
}

main().catch((err: unknown) => {
  showLost(`Cannot reach PushCam: ${errorMessage(err)}. Open the control panel link PushCam printed when it started.`, false);
});
