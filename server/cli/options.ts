import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Settings } from '../../shared/contract.js';
import { CLI_SETTINGS, type CliOption, checkSetting, DEFAULT_SETTINGS, type SettingName } from '../../shared/settings-table.js';
import { MAX_PER_ADDRESS } from '../http/connections.js';
import { SEND_TIMEOUT_MS } from '../hub/viewer.js';
import { LIMITS } from '../../shared/limits.js';
import type { SourceSpec } from '../source/sources.js';

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

/** An option of the command line's own; the settings' options are in their table (CLI_SETTINGS). */
interface OwnOption {
  flag: string;
  /** What follows the flag in --help; without it the flag takes no value. */
  arg?: string;
  multiple?: boolean;
  short?: string;
  help: readonly string[];
}

/**
 * The options in the order --help lists them: the command line's own, and where a setting's
 * option goes among them. A setting's option not placed here is listed after the placed ones.
 */
const OPTIONS: readonly (OwnOption | SettingName)[] = [
  {
    flag: 'source',
    arg: 'SRC',
    help: [
      'pattern (default), file:PATH (an image another program keeps',
      'updating), dir:PATH (the newest image in a folder), or',
      'camera[:NAME] (a camera, by part of its name; captured by a',
      'headless Chrome or Chromium)',
    ],
  },
  'port',
  { flag: 'host', arg: 'ADDR', help: ['address to listen on (default: all interfaces)'] },
  'intervalMs',
  {
    flag: 'size',
    arg: 'WxH',
    help: ['picture size of the test pattern, or asked of the camera', `(default ${DEFAULT_SETTINGS.width}x${DEFAULT_SETTINGS.height})`],
  },
  'quality',
  'timestamp',
  'text',
  'mirror',
  'rotate',
  { flag: 'key', arg: 'K', help: ['access key viewers need (default: one made on first run and kept)'] },
  'openAccess',
  'maxViewers',
  { flag: 'send-timeout', arg: 'S', help: [`drop a viewer that takes no data for S seconds (default ${SEND_TIMEOUT_MS / 1000})`] },
  { flag: 'max-per-address', arg: 'N', help: [`most connections from one address at once (default ${MAX_PER_ADDRESS})`] },
  {
    flag: 'allow-host',
    arg: 'NAME',
    multiple: true,
    help: ['a name viewers reach this computer by, besides its own', 'names and addresses (repeat it, or NAME,NAME)'],
  },
  'name',
  'mdns',
  'tlsCert',
  'tlsKey',
  {
    flag: 'ui',
    help: [
      'serve the control panel on this computer and print its URL;',
      "keeps the panel's settings (in the config folder), which",
      'the options given here override for this run',
    ],
  },
  { flag: 'browser', arg: 'PATH', help: ['the Chrome or Chromium that captures the camera'] },
  { flag: 'fake-camera', help: ["Chromium's built-in test camera, for demos and tests"] },
  { flag: 'help', short: 'h', help: ['show this help (also: pushcam help)'] },
  { flag: 'version', short: 'v', help: ['show the version'] },
];

/** Every option in --help order, the settings' with their help filled in. */
function allOptions(): OwnOption[] {
  const placed = OPTIONS.filter((o) => typeof o === 'string');
  const unplaced = CLI_SETTINGS.filter((s) => !placed.includes(s.name)).map((s) => s.name);
  const last = OPTIONS.findLastIndex((o) => typeof o === 'string');
  const order = [...OPTIONS.slice(0, last + 1), ...unplaced, ...OPTIONS.slice(last + 1)];
  return order.map((o) => (typeof o === 'string' ? settingOption(o) : o));
}

function settingOption(name: SettingName): OwnOption {
  const cli = cliOf(name);
  const help = cli.help.map((line) => line.replace('{default}', String(DEFAULT_SETTINGS[name])));
  return { flag: cli.flag, ...(cli.arg === undefined ? {} : { arg: cli.arg }), help };
}

function cliOf(name: SettingName): CliOption {
  const found = CLI_SETTINGS.find((s) => s.name === name);
  if (!found) throw new Error(`the setting ${name} has no command-line option`);
  return found.cli;
}

const HELP_COLUMN = 22;

function helpLines(o: OwnOption): string[] {
  const left = `  ${o.short ? `-${o.short}, ` : ''}--${o.flag}${o.arg === undefined ? '' : ` ${o.arg}`}`;
  const indent = ' '.repeat(HELP_COLUMN);
  // A long flag gets a line of its own, so the help text stays in its column.
  if (left.length + 2 > HELP_COLUMN) return [left, ...o.help.map((line) => indent + line)];
  return [left.padEnd(HELP_COLUMN) + o.help[0], ...o.help.slice(1).map((line) => indent + line)];
}

const ALL_OPTIONS = allOptions();

export const HELP = `Usage: pushcam serve [options]

Serves a live picture as a server-push (MJPEG) stream to every browser on the network.

${ALL_OPTIONS.flatMap(helpLines).join('\n')}
`;

type ArgSpec = { type: 'string' | 'boolean'; multiple?: boolean; short?: string };
function argSpec(o: Pick<OwnOption, 'arg' | 'multiple' | 'short'>): ArgSpec {
  return { type: o.arg === undefined ? 'boolean' : 'string', ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) };
}
/** Every option, and the settings' former flags (CliOption.formerly), taken as their options are. */
const SPEC: Record<string, ArgSpec> = Object.fromEntries([
  ...ALL_OPTIONS.map((o) => [o.flag, argSpec(o)]),
  ...CLI_SETTINGS.flatMap(({ cli }) => (cli.formerly === undefined ? [] : [[cli.formerly, argSpec(cli)]])),
]);

/** What parseArgs found: strings for options with a value, true for flags, a list for --allow-host. */
type Values = ReturnType<typeof parseArgs>['values'];

export function parseCommand(argv: string[]): Command {
  const { values, positionals } = parseStrict(argv);
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const [command, ...extra] = positionals;
  if (command === undefined || command === 'help') return { kind: 'help' };
  if (command !== 'serve') throw new UsageError(`unknown command "${command}"; the command is: pushcam serve (see pushcam --help)`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"; options start with --`);

  const text = (flag: string): string | undefined => values[flag] as string | undefined;
  const camera = parseSource(text('source') ?? 'pattern');
  if (camera.kind !== 'camera') {
    for (const flag of ['browser', 'fake-camera'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} goes with --source camera`);
    }
  }
  const key = text('key');
  if (key !== undefined && values['no-auth']) throw new UsageError('--key and --no-auth contradict each other; pick one');
  if (key !== undefined && !/^[A-Za-z0-9._~-]{8,128}$/.test(key)) {
    throw new UsageError('--key must be 8 to 128 letters, digits or . _ ~ - (it goes into URLs)');
  }
  const settings: Partial<Settings> = {};
  // camera:NAME picks the camera for this run: by its label (or part of it), whatever id was saved.
  if (camera.kind === 'camera' && camera.name) Object.assign(settings, { cameraId: '', cameraLabel: camera.name });
  const size = text('size');
  if (size !== undefined) [settings.width, settings.height] = parseSize(size);
  Object.assign(settings, settingsFrom(values));
  Object.assign(settings, parseTls(text('tls-cert'), text('tls-key')));
  return {
    kind: 'serve',
    options: {
      source: camera.kind === 'camera' ? { kind: 'camera' } : camera,
      settings,
      host: text('host'),
      key,
      sendTimeoutMs: parseNumber('--send-timeout', text('send-timeout') ?? String(SEND_TIMEOUT_MS / 1000), ...LIMITS.sendTimeoutS) * 1000,
      maxPerAddress: parseNumber('--max-per-address', text('max-per-address') ?? String(MAX_PER_ADDRESS), ...LIMITS.maxPerAddress),
      allowHosts: ((values['allow-host'] as string[] | undefined) ?? []).flatMap((list) => list.split(',')).map(parseHostName),
      ui: values.ui === true,
      browser: text('browser'),
      fakeCamera: values['fake-camera'] === true,
    },
  };
}

/** The settings given by their own options (CLI_SETTINGS), checked as a change from the window is. */
function settingsFrom(values: Values): Partial<Settings> {
  const settings: Record<string, unknown> = {};
  for (const { name, cli } of CLI_SETTINGS) {
    // The flag as given, so a refusal names it; its name now wins over its former one.
    const flag = [cli.flag, cli.formerly].find((f) => f !== undefined && values[f] !== undefined);
    if (flag === undefined) continue;
    settings[name] = cli.arg === undefined ? (cli.sets ?? true) : settingValue(name, cli, flag, values[flag] as string);
  }
  return settings as Partial<Settings>;
}

function settingValue(name: SettingName, cli: CliOption, flag: string, text: string): Settings[SettingName] {
  const number = /^\d+$/.test(text) ? Number(text) : NaN;
  const value = typeof DEFAULT_SETTINGS[name] === 'number' ? number : cli.trim ? text.trim() : text;
  const problem = checkSetting(name, value);
  if (problem) throw new UsageError(`--${flag} ${cli.problem ?? problem}, not "${text}"`);
  return value;
}

function parseStrict(argv: string[]): { values: Values; positionals: string[] } {
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
