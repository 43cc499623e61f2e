import { networkInterfaces } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configDir, packageRoot } from '../config/paths.js';
import { loadAccessKey } from '../config/access-key.js';
import { DirSource, FileSource } from '../source/file.js';
import { PatternSource } from '../source/pattern.js';
import { startPushCam, type PushCam } from '../pushcam.js';
import type { FrameSource, ViewerInfo } from '../types.js';
import { describeUserAgent } from '../user-agent.js';
import { HELP, parseCommand, type ServeOptions, UsageError } from './options.js';

const say = (line: string): void => console.log(line);
const warn = (line: string): void => console.error(line);

function makeSource(o: ServeOptions): FrameSource {
  const { source, intervalMs } = o;
  if (source.kind === 'file') return new FileSource({ path: source.path, intervalMs, log: warn });
  if (source.kind === 'dir') return new DirSource({ path: source.path, intervalMs, log: warn });
  return new PatternSource({ width: o.width, height: o.height, intervalMs });
}

/** One viewer URL per address this machine has on the network (IPv4; loopback if there is none). */
function viewerUrls(port: number, host: string | undefined, key: string | null): string[] {
  const query = key ? `?key=${key}` : '';
  const wildcard = host === undefined || host === '0.0.0.0' || host === '::';
  const addresses = wildcard
    ? Object.values(networkInterfaces())
        .flat()
        .filter((a) => a && a.family === 'IPv4' && !a.internal)
        .map((a) => a!.address)
    : [host.includes(':') ? `[${host}]` : host];
  if (addresses.length === 0) addresses.push('127.0.0.1');
  return addresses.map((address) => `http://${address}:${port}/${query}`);
}

function describeViewer(v: ViewerInfo, watching: number): string {
  return `${v.ip} (${describeUserAgent(v.userAgent)}), ${watching} watching`;
}

async function serve(o: ServeOptions): Promise<void> {
  let pushcam: PushCam;
  let key: string | null;
  try {
    key = o.noAuth ? null : (o.key ?? loadAccessKey(configDir(), warn));
    if (key === null) warn('pushcam: WARNING: --no-auth: anyone who can reach this port can watch, without a key');
    pushcam = await startPushCam({
      source: makeSource(o),
      encode: { quality: o.quality, mirror: o.mirror, rotate: o.rotate, timestamp: o.timestamp, text: o.text },
      host: o.host,
      port: o.port,
      key,
      maxClients: o.maxClients,
      log: warn,
    });
  } catch (err) {
    warn(`pushcam: ${(err as Error).message}`);
    process.exit(1);
  }
  for (const url of viewerUrls(pushcam.port, o.host, key)) say(`Viewer: ${url}`);
  pushcam.hub.on('joined', (v) => say(`Viewer joined: ${describeViewer(v, pushcam.hub.viewerCount)}`));
  pushcam.hub.on('left', (v) => say(`Viewer left: ${describeViewer(v, pushcam.hub.viewerCount)}`));

  const stop = (): void => {
    setTimeout(() => process.exit(0), 1500).unref();
    void pushcam.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

export async function main(argv: string[]): Promise<void> {
  try {
    const command = parseCommand(argv);
    if (command.kind === 'help') return say(HELP);
    if (command.kind === 'version') return say(`pushcam ${version()}`);
    await serve(command.options);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    warn(`pushcam: ${err.message}`);
    process.exit(2);
  }
}

void main(process.argv.slice(2));
