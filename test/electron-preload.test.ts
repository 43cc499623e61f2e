// The page-world half of the preload (installPageClient), in real Chromium: Electron runs this
// function in the page with contextBridge.executeInMainWorld, and the preload posts frame ports
// to the window. Here a stand-in bridge posts them the same way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipcChannel } from '../shared/contract.js';
import { installPageClient } from '../electron/ipc-client.js';
import { browserFor, newPage } from './helpers/chromium.js';

/** In the page: a bridge whose ports echo what they get, tagged with their number; the second request fails. */
const STAND_IN_BRIDGE = `(() => {
  let requests = 0;
  return {
    call: async (name) => 'called ' + name,
    on: () => () => undefined,
    postFramePort: async () => {
      const n = ++requests;
      if (n === 2) throw new Error('refused: test');
      await new Promise((resolve) => setTimeout(resolve, 10));
      const { port1, port2 } = new MessageChannel();
      port2.onmessage = (event) => port2.postMessage(n + ':' + event.data);
      window.postMessage('some other message', '*');
      window.postMessage(${JSON.stringify(ipcChannel.framePort)}, '*', [port1]);
    },
  };
})()`;

test('preload page client: window.pushcam gets frame ports in order, and stays put', async (t) => {
  const browser = await browserFor(t);
  const page = await newPage(browser);
  await page.goto('about:blank');
  await page.evaluate(`(${installPageClient.toString()})(${STAND_IN_BRIDGE}, ${JSON.stringify(ipcChannel.framePort)})`);

  const result = await page.evaluate(`(async () => {
    const echo = (channel) => new Promise((resolve) => {
      channel.port.onmessage = (event) => resolve(event.data);
      channel.port.postMessage('hi');
    });
    const [first, second, third] = await Promise.allSettled([
      window.pushcam.openFrameChannel(),
      window.pushcam.openFrameChannel(),
      window.pushcam.openFrameChannel(),
    ]);
    const replaced = (() => { try { window.pushcam = null; } catch { /* strict mode */ } return window.pushcam !== null; })();
    return {
      kinds: [first.value?.kind, third.value?.kind],
      echoes: [await echo(first.value), await echo(third.value)],
      refusal: second.reason?.message,
      call: await window.pushcam.call('getState'),
      frozen: Object.isFrozen(window.pushcam),
      kept: replaced,
    };
  })()`);

  assert.deepEqual(result, {
    kinds: ['port', 'port'],
    echoes: ['1:hi', '3:hi'],
    refusal: 'refused: test',
    call: 'called getState',
    frozen: true,
    kept: true,
  });
});
