// The ranges every setting must fall in, for the command line and the window alike.

export const LIMITS = {
  /** 0 = any free port. */
  port: [0, 65535],
  intervalMs: [10, 3_600_000],
  quality: [1, 100],
  maxClients: [1, 10_000],
  sendTimeoutS: [1, 3600],
  maxPerAddress: [1, 10_000],
  width: [16, 7680],
  height: [16, 4320],
} as const satisfies Record<string, readonly [number, number]>;

export type LimitName = keyof typeof LIMITS;

/** What is wrong when `value` is not a whole number in the range of `name` ("must be ..."), else null. */
export function outOfRange(name: LimitName, value: unknown): string | null {
  const [min, max] = LIMITS[name];
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return null;
  return `must be a whole number from ${min} to ${max}`;
}
