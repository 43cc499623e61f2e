import type { ControlClient } from '../../shared/contract.js';
import { connectControl, controlUrlFromLocation } from '../common/ws-client.js';

declare global {
  interface Window {
    /** The control contract, exposed by the Electron preload; absent in a plain browser. */
    pushcam?: ControlClient;
  }
}

/** The desktop app's preload hands the window its client; in a browser it comes over the loopback WebSocket. */
export function controlClient(): Promise<ControlClient> {
  return window.pushcam ? Promise.resolve(window.pushcam) : connectControl(controlUrlFromLocation(location));
}
