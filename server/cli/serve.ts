import { join } from 'node:path';
import { findBrowser, launchCapturePage, RESTARTING } from '../capture/headless-browser.js';
import { loadPanelAddress, savePanelAddress } from '../config/panel-address.js';
import { configDir } from '../config/paths.js';
import type { CameraReport, ControlState } from '../../shared/contract.js';
import { ControlService } from '../control/service.js';
import { type ControlServer, startControlServer } from '../control/ws-server.js';
import { onChange } from '../log.js';
import { checkSource, describeSource } from '../source/sources.js';
import type { ServeOptions } from './options.js';
import { logViewers, type Output } from './output.js';

// `pushcam serve`, built in one place for every source: the control service serves the picture;
// a loopback control server is added for the control panel (--ui) and for the headless page that
// captures a camera. The terminal gets a start-up block a person can use, and the new links
// whenever the panel changes the port, the key or the broadcast.

/** How long the capture browser may take to start and say what the camera does. */
const CAMERA_CHECK_MS = 20_000;

/** Starts serving; resolves with what stops it, or rejects with one line to print (exit 1). */
export async function serve(o: ServeOptions, out: Output, version: string): Promise<() => Promise<void>> {
  checkSource(o.source);
  const camera = o.source.kind === 'camera';
  const browser = camera ? findBrowser(o.browser) : null;
  const dir = configDir();
  const service = await ControlService.create({
    source: o.source,
    // Plain `serve` is its command line alone, the same on every run; the panel's changes are kept.
    settingsFile: o.ui ? join(dir, 'settings.json') : null,
    overrides: o.settings,
    configDir: dir,
    key: o.key,
    host: o.host,
    sendTimeoutMs: o.sendTimeoutMs,
    maxPerAddress: o.maxPerAddress,
    allowHosts: o.allowHosts,
    captureInWindow: false,
    log: out.warn,
  });
  const parts: (() => Promise<void>)[] = [() => service.close()];
  // Viewers first: their streams end at once, not after the browser has shut down.
  const close = async (): Promise<void> => {
    for (const part of parts) await part();
  };
  try {
    const state = await service.start();
    if (state.broadcast.state !== 'broadcasting') {
      const port = state.broadcast.suggestedPort;
      throw new Error(`${state.broadcast.error ?? 'could not start'}${port ? ` Try --port ${port}, which is free.` : ''}`);
    }
    const control = camera || o.ui ? await controlServer(service, o.ui ? dir : null, out) : null;
    if (control) parts.push(() => control.close());
    let report: CameraReport | null = null;
    if (browser && control) {
      const page = launchCapturePage({
        browser,
        url: control.capturePageUrl,
        fakeCamera: o.fakeCamera,
        log: out.warn,
        // Until the new browser's page reports, viewers see why there is no picture.
        onFault: (message) => service.reportCamera({ state: 'error', fault: 'other', message }),
      });
      parts.splice(1, 0, () => page.close());
      report = await firstCameraReport(service);
      if (report?.state === 'error' && report.fault === 'missing') {
        throw new Error(`${report.message}, or try --fake-camera (Chromium's test camera) or --source pattern.`);
      }
    }
    printStartup(service.getState(), o, out, { version, report, panelUrl: o.ui ? (control?.panelUrl ?? '') : '' });
    followChanges(service, out);
    logViewers(service.hub, out);
    return close;
  } catch (err) {
    await close();
    throw err;
  }
}

/** The loopback server for the panel and the capture page; with --ui at the address of the last run, so an open panel comes back. */
async function controlServer(service: ControlService, keepIn: string | null, out: Output): Promise<ControlServer> {
  const last = keepIn ? loadPanelAddress(keepIn, out.warn) : null;
  const control = await startControlServer(service, { port: last?.port, token: last?.token, log: out.warn });
  if (keepIn && (control.port !== last?.port || control.token !== last.token)) savePanelAddress(keepIn, control, out.warn);
  return control;
}

/**
 * The camera is opened only while someone watches; at start it is opened once, so that a
 * missing camera is said now, not when the first viewer comes. Answers what the capture side
 * reports first, or null if it says nothing in time.
 */
async function firstCameraReport(service: ControlService): Promise<CameraReport | null> {
  const release = service.hub.hold();
  try {
    return await new Promise<CameraReport | null>((resolve) => {
      const done = (report: CameraReport | null): void => {
        clearTimeout(timer);
        service.off('state', onState);
        resolve(report);
      };
      const onState = (s: ControlState): void => {
        if (s.camera && s.camera.state !== 'idle') done(s.camera);
      };
      const timer = setTimeout(() => done(null), CAMERA_CHECK_MS);
      service.on('state', onState);
    });
  } finally {
    release();
  }
}

interface Startup {
  version: string;
  /** What the camera said at start; null for other sources, or if it said nothing in time. */
  report: CameraReport | null;
  panelUrl: string;
}

/** What a person needs to start: what is served, where to watch, the panel, the key, how to stop. */
function printStartup(state: ControlState, o: ServeOptions, out: Output, s: Startup): void {
  out.say(`PushCam ${s.version} serves ${describeSource(o.source, state.settings, s.report)}.`);
  printLinks(state, out);
  if (s.panelUrl) out.say(`Control panel: ${s.panelUrl}   (this computer only)`);
  out.say(`Access key: ${state.share.keyKept}`);
  out.say('Ctrl-C to stop.');
}

function printLinks(state: ControlState, out: Output): void {
  const { localUrl, urls, nameUrl } = state.share;
  out.say(`Viewer: ${localUrl}   (this computer)`);
  for (const url of urls.filter((u) => u !== localUrl && u !== nameUrl)) out.say(`Viewer: ${url}   (network)`);
  if (nameUrl) printNameLink(nameUrl, out);
  if (state.settings.openAccess) out.warn('WARNING: open access: anyone who can reach this port can watch, without a key');
}

/** The link by the camera's .local name: it comes once the network has heard the name, after the start-up block. */
function printNameLink(url: string, out: Output): void {
  out.say(`Viewer: ${url}   (network, by name; where .local names resolve)`);
}

/** From the panel: new links when the port, the key or the broadcast changes; camera problems, once each. */
function followChanges(service: ControlService, out: Output): void {
  const linksOf = (s: ControlState): string => JSON.stringify([s.broadcast.state, s.broadcast.error, s.share.localUrl, s.share.urls.filter((u) => u !== s.share.nameUrl)]);
  let shown = linksOf(service.getState());
  let nameShown = service.getState().share.nameUrl;
  const sourceProblem = onChange(out.warn);
  let troubled = false;
  const follow = (s: ControlState): void => {
    const links = linksOf(s);
    if (links !== shown && s.broadcast.state !== 'starting') {
      shown = links;
      if (s.broadcast.state === 'broadcasting') {
        out.say('New links (changed in the control panel):');
        printLinks(s, out);
      } else if (s.broadcast.state === 'stopped') {
        out.say('Broadcast stopped from the control panel; Start broadcasting there serves viewers again.');
      } else {
        out.warn(s.broadcast.error ?? 'broadcasting failed');
      }
      nameShown = s.share.nameUrl;
    } else if (s.share.nameUrl !== nameShown) {
      nameShown = s.share.nameUrl;
      if (nameShown) printNameLink(nameShown, out);
    }
    // The camera's troubles; a browser restart has had its line from launchCapturePage already.
    if (s.source.kind !== 'camera') return;
    const problem = s.source.state === 'error' ? (s.source.error ?? 'the camera failed') : '';
    if (problem && problem !== RESTARTING) sourceProblem(`camera: ${problem}`);
    if (!problem && troubled) out.warn('camera: capturing again');
    if (!problem) sourceProblem('');
    troubled = problem !== '';
  };
  follow(service.getState());
  service.on('state', follow);
}
