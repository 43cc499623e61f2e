// The preload: gives the page `window.pushcam`, a ControlClient, and nothing else (no ipcRenderer,
// no Node). Sandboxed, so it is bundled into one file with only `electron` left to require.
import { contextBridge, ipcRenderer } from 'electron';
import { ipcChannel } from '../shared/contract.js';
import { createIpcClient, installPageClient, type PageBridge } from './ipc-client.js';

const client = createIpcClient(ipcRenderer);

// Functions cross the context bridge as proxies and plain data is copied; a MessagePort is
// neither, so it goes to the page by window.postMessage, the one way a port reaches that world.
const bridge: PageBridge = {
  call: client.call,
  on: client.on,
  async postFramePort() {
    const channel = await client.openFrameChannel();
    if (channel.kind === 'port') window.postMessage(ipcChannel.framePort, '*', [channel.port]);
  },
};

contextBridge.executeInMainWorld({ func: installPageClient, args: [bridge, ipcChannel.framePort] });
