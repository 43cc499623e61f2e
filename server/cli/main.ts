import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAccessKey } from '../config/access-key.js';
import { configDir, packageRoot } from '../config/paths.js';
import { viewerUrls } from '../http/urls.js';
import { startPushCam } from '../pushcam.js';
import { DirSource, FileSource } from '../source/file.js';
import { PatternSource } from '../source/pattern.js';
import type { FrameSource } from '../types.js';
import { serveCamera } from './camera.js';
import { HELP, parseCommand, type ServeOptions, UsageError } from './options.js';
import { logViewers, type Output } from './output.js';

const out: Output = { say: (line) => console.log(line), warn: (line) => console.error(line) };

function makeSource(o: ServeOptions): FrameSource {
  const { source, intervalMs } = o;
  if (source.kind === 'file') return new FileSource({ path: source.path, intervalMs, log: out.warn });
  if (source.kind === 'dir') return new DirSource({ path: source.path, intervalMs, log: out.warn });
  return new PatternSource({ width: o.width, height: o.height, intervalMs });
}

/** `serve` with a pattern, file or folder: the core and its HTTP server, nothing else. */
async function serveSource(o: ServeOptions): Promise<() => Promise<void>> {
  const key = o.noAuth ? null : (o.key ?? loadAccessKey(configDir(), (line) => out.warn(`pushcam: ${line}`)));
  const pushcam = await startPushCam({
    source: makeSource(o),
    encode: { quality: o.quality, mirror: o.mirror, rotate: o.rotate, timestamp: o.timestamp, text: o.text },
    host: o.host,
    port: o.port,
    key,
    maxClients: o.maxClients,
    sendTimeoutMs: o.sendTimeoutMs,
    name: () => o.name,
    log: out.warn,
  });
  for (const url of viewerUrls(pushcam.port, o.host, key)) out.say(`Viewer: ${url}`);
  logViewers(pushcam.hub, out);
  return pushcam.close;
}

async function serve(o: ServeOptions): Promise<void> {
  if (o.noAuth) out.warn('pushcam: WARNING: --no-auth: anyone who can reach this port can watch, without a key');
  // Signals are handled from the start: the viewer lines are printed while serving begins, and a
  // script that stops PushCam as soon as it sees them must get a clean exit, not a kill.
  let close: (() => Promise<void>) | null = null;
  const stop = (): void => {
    setTimeout(() => process.exit(0), 1500).unref();
    void (close?.() ?? Promise.resolve()).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    close = o.source.kind === 'camera' ? await serveCamera(o, out) : await serveSource(o);
  } catch (err) {
    out.warn(`pushcam: ${(err as Error).message}`);
    process.exit(1);
  }
}

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

export async function main(argv: string[]): Promise<void> {
  try {
    const command = parseCommand(argv);
    if (command.kind === 'help') return out.say(HELP);
    if (command.kind === 'version') return out.say(`pushcam ${version()}`);
    await serve(command.options);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    out.warn(`pushcam: ${err.message}`);
    process.exit(2);
  }
}

void main(process.argv.slice(2));
