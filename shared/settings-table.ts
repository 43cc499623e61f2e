// Every setting once: its default (hence its type), its check, what it applies to, its
// command-line option. The Settings type, the defaults, the checks, the groups the service reacts
// to, the ranges (limits.ts), the command line's options and --help (server/cli/options.ts) and the
// form's field limits are derived from this table. No Node types: the renderer imports it too.
// To add a setting: one entry here, its field in the window (renderer/app), and what it does;
// with a command-line option, its row in the README's options table too.

import type { SourceKind } from './contract.js';
import { rangeProblem, textProblem } from './values.js';

/**
 * What a change of the setting applies to while PushCam runs: the encoder's picture, the HTTP
 * server (restarted), or the server's address (restarted, and the links change). Without it,
 * the setting is read where it is used (the source's settings are in `sources`).
 */
type Applies = 'encode' | 'server' | 'address';

/** The picture's turns, clockwise, in degrees (the `rotate` setting). */
const ROTATIONS = [0, 90, 180, 270] as const;
export type Rotation = (typeof ROTATIONS)[number];

interface Spec {
  default: string | number | boolean;
  /** A whole number: its range. */
  range?: readonly [number, number];
  /** Text: the most characters; `oneLine` refuses control characters. */
  max?: number;
  oneLine?: boolean;
  /** A number from this list only. */
  oneOf?: readonly number[];
  applies?: Applies;
  /** The kinds of source made from this setting (SOURCE_SETTINGS). */
  sources?: readonly SourceKind[];
  /** Its option on the command line (server/cli/options.ts), which sets it for one run. */
  cli?: CliOption;
  /** Its name in settings files before it was renamed: a file that has only that name is read as this setting. */
  formerly?: string;
}

export interface CliOption {
  /** `--flag`, without the dashes. */
  flag: string;
  /** What follows the flag in --help ("N"); a flag without one takes no value and sets `sets` (default true). */
  arg?: string;
  sets?: boolean;
  /** Text: the value is trimmed first. */
  trim?: boolean;
  /** How the command line words a refused value, where not as the check does. */
  problem?: string;
  /** Lines of --help, 56 characters at most; `{default}` is the setting's default. */
  help: readonly string[];
  /** The flag's name before it was renamed, still accepted (not in --help; the README names it). */
  formerly?: string;
}

/** The longest camera name: a browser tab shows fewer characters than this anyway. */
const NAME_MAX = 60;

export const SETTINGS_TABLE = {
  /** The camera's name, the viewer page's title ('' = "PushCam"). */
  name: {
    default: '',
    max: NAME_MAX,
    oneLine: true,
    cli: { flag: 'name', arg: '"..."', trim: true, help: ["the camera's name, the title of the viewer page and the", 'name announced on the network (NAME.local)'] },
  },
  /** deviceId from enumerateDevices; '' = the system's default camera. */
  cameraId: { default: '', max: 512, sources: ['camera'] },
  /** The camera's label, to find the same camera again when its deviceId changes. */
  cameraLabel: { default: '', max: 512, sources: ['camera'] },
  width: { default: 1280, range: [16, 7680], sources: ['camera', 'pattern'] },
  height: { default: 720, range: [16, 4320], sources: ['camera', 'pattern'] },
  intervalMs: {
    default: 100,
    range: [10, 3_600_000],
    sources: ['camera', 'pattern', 'file', 'dir'],
    cli: { flag: 'interval', arg: 'MS', help: ['how often to make, capture or read a picture (default {default})'] },
  },
  quality: {
    default: 80,
    range: [1, 100],
    applies: 'encode',
    cli: { flag: 'quality', arg: '1-100', help: ['JPEG quality when PushCam encodes (default {default})'] },
  },
  /** 0 = any free port. */
  port: {
    default: 8080,
    range: [0, 65535],
    applies: 'address',
    cli: { flag: 'port', arg: 'N', help: ['port to listen on (default {default}; 0 picks a free one)'] },
  },
  /** true: everyone on the LAN (all interfaces); false: this computer only. */
  lanAccess: { default: true, applies: 'address' },
  /** No access key: anyone who can reach the port watches. Off unless switched on explicitly. */
  openAccess: {
    default: false,
    applies: 'server',
    cli: { flag: 'no-auth', sets: true, help: ['let anyone who can reach the port watch, without a key'] },
  },
  maxViewers: {
    default: 32,
    range: [1, 10_000],
    applies: 'server',
    formerly: 'maxClients',
    cli: { flag: 'max-viewers', formerly: 'max-clients', arg: 'N', help: ['most viewers at once (default {default})'] },
  },
  mirror: { default: false, applies: 'encode', cli: { flag: 'mirror', sets: true, help: ['flip the picture left to right'] } },
  rotate: {
    default: 0 as Rotation,
    oneOf: ROTATIONS,
    applies: 'encode',
    cli: { flag: 'rotate', arg: 'DEG', problem: 'must be 90, 180 or 270', help: ['rotate by 90, 180 or 270 degrees'] },
  },
  timestamp: {
    default: false,
    applies: 'encode',
    cli: { flag: 'timestamp', sets: true, help: ['draw the date and time in the top-left corner'] },
  },
  text: {
    default: '',
    max: 200,
    applies: 'encode',
    cli: { flag: 'text', arg: '"..."', help: ['draw a line of text in the bottom-left corner'] },
  },
  startOnLaunch: { default: false },
  /** Announce the camera on the LAN by mDNS/DNS-SD (NAME.local links). */
  mdns: { default: true, cli: { flag: 'no-mdns', sets: false, help: ['do not announce the camera on the network by mDNS'] } },
  /** PEM certificate and key files for HTTPS; both '' = plain HTTP. Set together. */
  tlsCert: {
    default: '',
    max: 4096,
    applies: 'address',
    cli: { flag: 'tls-cert', arg: 'FILE', help: ['serve HTTPS with this PEM certificate (with --tls-key);', 'plain HTTP on the port then redirects to https'] },
  },
  tlsKey: { default: '', max: 4096, applies: 'address', cli: { flag: 'tls-key', arg: 'FILE', help: ["the certificate's PEM private key"] } },
} satisfies Record<string, Spec>;

type Table = typeof SETTINGS_TABLE;
export type SettingName = keyof Table;

/** What the user sets in the window; kept across restarts (server/control/settings.ts). */
export type Settings = { [K in SettingName]: Widen<Table[K]['default']> };
/** `default: false` is typed `false`; the setting is a boolean. */
type Widen<T> = T extends boolean ? boolean : T;

type NamesWhere<P> = { [K in SettingName]: Table[K] extends P ? K : never }[SettingName];
/** How every frame is turned into the JPEG viewers get. Changeable while running. */
export type EncodeSettings = Pick<Settings, NamesWhere<{ applies: 'encode' }>>;
type RangeName = NamesWhere<{ range: readonly [number, number] }>;

const NAMES = Object.keys(SETTINGS_TABLE) as SettingName[];
const SPECS: Record<SettingName, Spec> = SETTINGS_TABLE;

function namesWhere(test: (spec: Spec) => boolean): SettingName[] {
  return NAMES.filter((name) => test(SPECS[name]));
}

function defaultsOf<K extends SettingName>(names: readonly K[]): Pick<Settings, K> {
  return Object.fromEntries(names.map((name) => [name, SETTINGS_TABLE[name].default])) as Pick<Settings, K>;
}

export const DEFAULT_SETTINGS: Settings = defaultsOf(NAMES);

/** The settings the encoder applies, and the ones that restart the HTTP server (address ones move it too). */
export const ENCODE_KEYS = namesWhere((s) => s.applies === 'encode') as (keyof EncodeSettings)[];
export const SERVER_KEYS = namesWhere((s) => s.applies === 'server' || s.applies === 'address');
export const ADDRESS_KEYS = namesWhere((s) => s.applies === 'address');
export const DEFAULT_ENCODE: EncodeSettings = defaultsOf(ENCODE_KEYS);

/**
 * The settings each kind of source is made from; the others mean nothing to it (a file has its
 * own size), so the window leaves them out. The encoder's and the server's settings apply to all.
 */
export const SOURCE_SETTINGS: { readonly [K in SourceKind]: readonly SettingName[] } = {
  camera: namesWhere((s) => s.sources?.includes('camera') === true),
  pattern: namesWhere((s) => s.sources?.includes('pattern') === true),
  file: namesWhere((s) => s.sources?.includes('file') === true),
  dir: namesWhere((s) => s.sources?.includes('dir') === true),
};

/** Former names of settings in settings files, each with the setting's name now. */
export const FORMER_NAMES: ReadonlyMap<string, SettingName> = new Map(
  NAMES.flatMap((name) => {
    const formerly = SPECS[name].formerly;
    return formerly === undefined ? [] : [[formerly, name] as const];
  }),
);

/** The settings that have a command-line option, with it. */
export const CLI_SETTINGS = NAMES.flatMap((name) => {
  const cli = SPECS[name].cli;
  return cli ? [{ name, cli }] : [];
});

/** The range of every whole-number setting. */
export const SETTING_RANGES = Object.fromEntries(
  namesWhere((s) => s.range !== undefined).map((name) => [name, SPECS[name].range]),
) as { [K in RangeName]: Table[K]['range'] };

/** What is wrong with a value of the setting `name` ("must be ..."), or null. */
export function checkSetting(name: SettingName, value: unknown): string | null {
  const spec = SPECS[name];
  if (spec.oneOf) return spec.oneOf.includes(value as number) ? null : `must be ${spell(spec.oneOf)}`;
  if (spec.range) return rangeProblem(spec.range, value);
  if (typeof spec.default === 'boolean') return typeof value === 'boolean' ? null : 'must be true or false';
  const problem = textProblem(spec.max ?? 0, value);
  return problem ?? (spec.oneLine && /[\p{Cc}]/u.test(value as string) ? 'must be one line of text' : null);
}

/** "0, 90, 180 or 270". */
function spell(values: readonly number[]): string {
  return `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
}
