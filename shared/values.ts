// Checks for values that come from outside the process (control calls, the settings file), each
// throwing a one-line reason that names the value.

/** An object made of plain data (what JSON or a structured clone gives), not an array, a Map or a class. */
export function plainObject(value: unknown, name: string): Record<string, unknown> {
  const proto = typeof value === 'object' && value !== null ? Object.getPrototypeOf(value) : undefined;
  if ((proto !== Object.prototype && proto !== null) || Array.isArray(value)) throw new Error(`${name} must be an object`);
  return value as Record<string, unknown>;
}

export function text(value: unknown, name: string, max: number): string {
  return checked(value, name, textProblem(max, value)) as string;
}

export function whole(value: unknown, name: string, min: number, max: number): number {
  return checked(value, name, rangeProblem([min, max], value)) as number;
}

function checked(value: unknown, name: string, problem: string | null): unknown {
  if (problem) throw new Error(`${name} ${problem}`);
  return value;
}

/** What is wrong when `value` is not text of at most `max` characters ("must be ..."), else null. */
export function textProblem(max: number, value: unknown): string | null {
  return typeof value === 'string' && value.length <= max ? null : `must be text of at most ${max} characters`;
}

/** What is wrong when `value` is not a whole number in `[min, max]` ("must be ..."), else null. */
export function rangeProblem([min, max]: readonly [number, number], value: unknown): string | null {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max ? null : `must be a whole number from ${min} to ${max}`;
}

/** Refuses a field that is not one of `names` (checked objects carry exactly their fields). */
export function exactFields(value: Record<string, unknown>, name: string, names: readonly string[]): void {
  const extra = Object.keys(value).find((key) => !names.includes(key));
  if (extra !== undefined) throw new Error(`${name} has no field "${extra.slice(0, 64)}"`);
}
