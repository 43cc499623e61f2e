import { findBrowser, launchCapturePage, RESTARTING } from '../capture/headless-browser.js';
import { configDir } from '../config/paths.js';
import { ControlService } from '../control/service.js';
import { startControlServer } from '../control/ws-server.js';
import { logViewers, type Output } from './output.js';
import type { ServeOptions } from './options.js';

/**
 * `pushcam serve --source camera`: the camera is captured by a headless Chrome or Chromium
 * running PushCam's capture page, which sends frames over the loopback control server, the same
 * way the desktop window does. With --ui, that server's control panel URL is printed too.
 */
export async function serveCamera(o: ServeOptions, out: Output): Promise<() => Promise<void>> {
  const browser = findBrowser(o.browser);
  const service = await ControlService.create({
    settingsFile: null,
    initial: {
      name: o.name,
      cameraLabel: o.source.kind === 'camera' ? o.source.name : '',
      width: o.width,
      height: o.height,
      intervalMs: o.intervalMs,
      quality: o.quality,
      port: o.port,
      openAccess: o.noAuth,
      maxClients: o.maxClients,
      mirror: o.mirror,
      rotate: o.rotate,
      timestamp: o.timestamp,
      text: o.text,
    },
    configDir: configDir(),
    key: o.key,
    host: o.host,
    sendTimeoutMs: o.sendTimeoutMs,
    captureInWindow: false,
    log: out.warn,
  });
  const state = await service.start();
  if (state.broadcast.state !== 'broadcasting') {
    await service.close();
    const suggestion = state.broadcast.suggestedPort ? ` Try --port ${state.broadcast.suggestedPort}, which is free.` : '';
    throw new Error(`${state.broadcast.error ?? 'could not start'}${suggestion}`);
  }
  const control = await startControlServer(service, { log: out.warn });
  const page = launchCapturePage({
    browser,
    url: control.capturePageUrl,
    fakeCamera: o.fakeCamera,
    log: out.warn,
    // Until the new browser's page reports, viewers see why there is no picture.
    onFault: (message) => service.reportCamera({ state: 'error', fault: 'other', message }),
  });
  for (const url of state.share.urls) out.say(`Viewer: ${url}`);
  if (o.ui) out.say(`Control panel: ${control.panelUrl}`);
  logViewers(service.hub, out);

  let cameraProblem = '';
  service.on('state', (s) => {
    const problem = s.source.state === 'error' ? (s.source.error ?? '') : '';
    // A browser restart has had its line from launchCapturePage already.
    if (problem && problem !== cameraProblem && problem !== RESTARTING) out.warn(`pushcam: camera: ${problem}`);
    if (!problem && cameraProblem) out.warn('pushcam: camera: capturing again');
    cameraProblem = problem;
  });
  // Viewers first: their streams end at once, not after the browser has shut down.
  return async () => {
    await service.close();
    await page.close();
    await control.close();
  };
}
