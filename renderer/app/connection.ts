import type { ControlClient } from '../../shared/contract.js';
import { byTestId, setText } from './dom.js';

// The window's link to the core. When it is lost (PushCam quit or stopped answering), the whole
// window goes inert and grey behind a card that says so, and nothing in it claims to be live any
// more. When PushCam answers again, the page loads again from it: the state, and the code, of the
// PushCam that runs now. Over Electron IPC the core is the app itself and the link never breaks.

export function bindConnection(client: ControlClient): void {
  client.on('connection', (connection) => {
    if (connection === 'lost') showLost();
    else location.reload();
  });
}

/** Blocks the window; `reason` replaces the usual words, `retrying` false where nothing will try again (a wrong link). */
export function showLost(reason?: string, retrying = true): void {
  const app = byTestId('app', HTMLElement);
  app.inert = true;
  for (const dialog of document.querySelectorAll('dialog')) dialog.close();
  const onAir = byTestId('on-air', HTMLElement);
  onAir.dataset.live = 'false';
  setText(onAir, 'Disconnected');
  setText(byTestId('status-text', HTMLElement), 'Not connected to PushCam');
  byTestId('status', HTMLElement).dataset.tone = 'error';
  if (reason) setText(byTestId('connection-lost-text', HTMLElement), reason);
  byTestId('connection-lost-retry', HTMLElement).hidden = !retrying;
  byTestId('connection-lost', HTMLElement).hidden = false;
  document.body.dataset.connection = 'lost';
}
