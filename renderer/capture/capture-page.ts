// The headless capture page: `pushcam serve --source camera` opens it in a headless Chrome or
// Chromium with its control token in the URL (#token=... or ?token=...), and it captures whenever
// the core asks. The two lines of text are for whoever opens it by hand or takes a screenshot.

import { connectControl } from '../common/ws-client.js';
import { Capture } from './capture.js';
import type { CaptureStats } from './capture-worker.js';

const RECONNECT_MS = 3000;

const statusLine = document.querySelector<HTMLElement>('[data-testid="capture-status"]');
const statsLine = document.querySelector<HTMLElement>('[data-testid="capture-stats"]');

function show(line: HTMLElement | null, text: string): void {
  if (line) line.textContent = text;
}

function tokenFromUrl(): string | null {
  const hash = new URLSearchParams(location.hash.slice(1));
  return hash.get('token') ?? new URLSearchParams(location.search).get('token');
}

function describeStats(stats: CaptureStats): string {
  return `${stats.width}x${stats.height}: ${stats.captured} frames sent, ${stats.skipped} skipped; frame preparation ${stats.prepareMs} ms, send to acknowledgement ${stats.ackMs} ms`;
}

async function connect(token: string): Promise<void> {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const url = `${scheme}://${location.host}/control?token=${encodeURIComponent(token)}`;
  try {
    const client = await connectControl(url);
    new Capture(client, { onStats: (stats) => show(statsLine, describeStats(stats)) });
    show(statusLine, 'connected: capturing whenever PushCam asks');
  } catch (err) {
    show(statusLine, `cannot connect to PushCam (${(err as Error).message}); trying again`);
    setTimeout(() => void connect(token), RECONNECT_MS);
  }
}

const token = tokenFromUrl();
if (token) void connect(token);
else show(statusLine, 'This page needs its token: open it with the full link PushCam printed.');
