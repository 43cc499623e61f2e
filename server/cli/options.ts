import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Settings } from '../control/contract.js';
import { checkSetting } from '../control/settings-table.js';
import { MAX_PER_ADDRESS } from '../http/connections.js';
import { SEND_TIMEOUT_MS } from '../hub/viewer.js';
import { LIMITS } from '../limits.js';
import type { SourceSpec } from '../source/sources.js';
import type { Rotation } from '../types.js';

export interface ServeOptions {
  source: SourceSpec;
  /**
   * The settings given on the command line, and only those: they win over saved settings for
   * this run (with --ui), else over the defaults. `camera:NAME` is the camera's label here.
   */
  settings: Partial<Settings>;
  host: string | undefined;
  key: string | undefined;
  /** A viewer whose connection takes no data for this long is dropped. */
  sendTimeoutMs: number;
  /** Connections one client address may hold at once. */
  maxPerAddress: number;
  /** Names viewers may reach this machine by, besides its own (the Host header). */
  allowHosts: string[];
  ui: boolean;
  browser: string | undefined;
  fakeCamera: boolean;
}

export type Command = { kind: 'help' } | { kind: 'version' } | { kind: 'serve'; options: ServeOptions };

/** A mistake in the command line; main prints it as one line and exits with 2. */
export class UsageError extends Error {}

export const HELP = `Usage: pushcam serve [options]

Serves a live picture as a server-push (MJPEG) stream to every browser on the network.

  --source SRC        pattern (default), file:PATH (an image another program keeps
                      updating), dir:PATH (the newest image in a folder), or
                      camera[:NAME] (a camera, by part of its name; captured by a
                      headless Chrome or Chromium)
  --port N            port to listen on (default 8080; 0 picks a free one)
  --host ADDR         address to listen on (default: all interfaces)
  --interval MS       how often to make, capture or read a picture (default 100)
  --size WxH          picture size of the test pattern, or asked of the camera
                      (default 1280x720)
  --quality 1-100     JPEG quality when PushCam encodes (default 80)
  --timestamp         draw the date and time in the top-left corner
  --text "..."        draw a line of text in the bottom-left corner
  --mirror            flip the picture left to right
  --rotate DEG        rotate by 90, 180 or 270 degrees
  --key K             access key viewers need (default: one made on first run and kept)
  --no-auth           let anyone who can reach the port watch, without a key
  --max-clients N     most viewers at once (default 32)
  --send-timeout S    drop a viewer that takes no data for S seconds (default 15)
  --max-per-address N
                      most connections from one address at once (default 32)
  --allow-host NAME   a name viewers reach this computer by, besides its own
                      names and addresses (repeat it, or NAME,NAME)
  --name "..."        the camera's name, the title of the viewer page and the
                      name announced on the network (NAME.local)
  --no-mdns           do not announce the camera on the network by mDNS
  --tls-cert FILE     serve HTTPS with this PEM certificate (with --tls-key);
                      plain HTTP on the port then redirects to https
  --tls-key FILE      the certificate's PEM private key
  --ui                serve the control panel on this computer and print its URL;
                      keeps the panel's settings (in the config folder), which
                      the options given here override for this run
  --browser PATH      the Chrome or Chromium that captures the camera
  --fake-camera       Chromium's built-in test camera, for demos and tests
  -h, --help          show this help (also: pushcam help)
  -v, --version       show the version
`;

const SPEC = {
  source: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  interval: { type: 'string' },
  size: { type: 'string' },
  quality: { type: 'string' },
  timestamp: { type: 'boolean' },
  text: { type: 'string' },
  mirror: { type: 'boolean' },
  rotate: { type: 'string' },
  key: { type: 'string' },
  'no-auth': { type: 'boolean' },
  'max-clients': { type: 'string' },
  'send-timeout': { type: 'string' },
  'max-per-address': { type: 'string' },
  'allow-host': { type: 'string', multiple: true },
  name: { type: 'string' },
  'no-mdns': { type: 'boolean' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  ui: { type: 'boolean' },
  browser: { type: 'string' },
  'fake-camera': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

export function parseCommand(argv: string[]): Command {
  const { values, positionals } = parseStrict(argv);
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const [command, ...extra] = positionals;
  if (command === undefined || command === 'help') return { kind: 'help' };
  if (command !== 'serve') throw new UsageError(`unknown command "${command}"; the command is: pushcam serve (see pushcam --help)`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"; options start with --`);

  const camera = parseSource(values.source ?? 'pattern');
  if (camera.kind !== 'camera') {
    for (const flag of ['browser', 'fake-camera'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} goes with --source camera`);
    }
  }
  if (values.key !== undefined && values['no-auth']) throw new UsageError('--key and --no-auth contradict each other; pick one');
  if (values.key !== undefined && !/^[A-Za-z0-9._~-]{8,128}$/.test(values.key)) {
    throw new UsageError('--key must be 8 to 128 letters, digits or . _ ~ - (it goes into URLs)');
  }
  const settings: Partial<Settings> = {};
  // camera:NAME picks the camera for this run: by its label (or part of it), whatever id was saved.
  if (camera.kind === 'camera' && camera.name) Object.assign(settings, { cameraId: '', cameraLabel: camera.name });
  if (values.size !== undefined) [settings.width, settings.height] = parseSize(values.size);
  if (values.port !== undefined) settings.port = parseNumber('--port', values.port, ...LIMITS.port);
  if (values.interval !== undefined) settings.intervalMs = parseNumber('--interval', values.interval, ...LIMITS.intervalMs);
  if (values.quality !== undefined) settings.quality = parseNumber('--quality', values.quality, ...LIMITS.quality);
  if (values['max-clients'] !== undefined) settings.maxClients = parseNumber('--max-clients', values['max-clients'], ...LIMITS.maxClients);
  if (values.rotate !== undefined) settings.rotate = parseRotation(values.rotate);
  if (values.text !== undefined) settings.text = values.text;
  if (values.timestamp) settings.timestamp = true;
  if (values.mirror) settings.mirror = true;
  if (values['no-auth']) settings.openAccess = true;
  if (values.name !== undefined) settings.name = parseName(values.name);
  if (values['no-mdns']) settings.mdns = false;
  Object.assign(settings, parseTls(values['tls-cert'], values['tls-key']));
  return {
    kind: 'serve',
    options: {
      source: camera.kind === 'camera' ? { kind: 'camera' } : camera,
      settings,
      host: values.host,
      key: values.key,
      sendTimeoutMs: parseNumber('--send-timeout', values['send-timeout'] ?? String(SEND_TIMEOUT_MS / 1000), ...LIMITS.sendTimeoutS) * 1000,
      maxPerAddress: parseNumber('--max-per-address', values['max-per-address'] ?? String(MAX_PER_ADDRESS), ...LIMITS.maxPerAddress),
      allowHosts: (values['allow-host'] ?? []).flatMap((list) => list.split(',')).map(parseHostName),
      ui: values.ui ?? false,
      browser: values.browser,
      fakeCamera: values['fake-camera'] ?? false,
    },
  };
}

function parseStrict(argv: string[]): ReturnType<typeof parseArgs<{ options: typeof SPEC; allowPositionals: true }>> {
  try {
    return parseArgs({ args: argv, options: SPEC, allowPositionals: true, strict: true });
  } catch (err) {
    const { code, message } = err as { code?: string; message: string };
    const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${option}; see pushcam --help`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(`option ${option.split(',')[0]} needs a value, or takes none; see pushcam --help`);
    throw new UsageError(message.split('\n')[0]);
  }
}

function parseNumber(name: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  return value;
}

/** `name`: part of the camera's label; '' = the default camera. */
function parseSource(text: string): Exclude<SourceSpec, { kind: 'camera' }> | { kind: 'camera'; name: string } {
  if (text === 'pattern') return { kind: 'pattern' };
  const camera = /^camera(?::(.*))?$/.exec(text);
  if (camera) return { kind: 'camera', name: camera[1] ?? '' };
  const match = /^(file|dir):(.+)$/.exec(text);
  if (match) return { kind: match[1] as 'file' | 'dir', path: match[2] };
  throw new UsageError(`--source must be pattern, file:PATH, dir:PATH or camera[:NAME], not "${text}"`);
}

function parseSize(text: string): [number, number] {
  const match = /^(\d{2,5})x(\d{2,5})$/.exec(text);
  const [w, h] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  const [[minW, maxW], [minH, maxH]] = [LIMITS.width, LIMITS.height];
  if (!(w >= minW && w <= maxW && h >= minH && h <= maxH)) {
    throw new UsageError(`--size must be WIDTHxHEIGHT between ${minW}x${minH} and ${maxW}x${maxH}, e.g. 1280x720, not "${text}"`);
  }
  return [w, h];
}

function parseName(text: string): string {
  const problem = checkSetting('name', text.trim());
  if (problem) throw new UsageError(`--name ${problem}, not "${text}"`);
  return text.trim();
}

/** A name for the Host header: a DNS name or an IP address, without a port. */
function parseHostName(text: string): string {
  const name = text.trim().toLowerCase();
  if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/.test(name) || isIP(name) !== 0) return name;
  throw new UsageError(`--allow-host takes a host name or an address, such as cam.example.org or 192.168.1.20 (no port, no scheme), not "${text}"`);
}

/** Both files or neither, as absolute paths (what the messages about them name). */
function parseTls(cert: string | undefined, key: string | undefined): Partial<Settings> {
  if (cert === undefined && key === undefined) return {};
  if (!cert || !key) throw new UsageError(`--tls-cert and --tls-key go together: give the certificate file and its key file`);
  return { tlsCert: resolve(cert), tlsKey: resolve(key) };
}

function parseRotation(text: string): Rotation {
  if (['0', '90', '180', '270'].includes(text)) return Number(text) as Rotation;
  throw new UsageError(`--rotate must be 90, 180 or 270, not "${text}"`);
}
