// The ranges every number must fall in, for the command line and the window alike: the settings'
// (their table) and the command line's own.
import { SETTING_RANGES } from './settings-table.js';

export const LIMITS = {
  ...SETTING_RANGES,
  sendTimeoutS: [1, 3600],
  maxPerAddress: [1, 10_000],
} as const satisfies Record<string, readonly [number, number]>;
