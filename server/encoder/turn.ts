import sharp, { type Sharp } from 'sharp';
import type { RawImage } from '../types.js';
import type { Rotation } from '../../shared/settings-table.js';

// Orientation: a frame is mirrored (left-right), then rotated clockwise, in the same sharp call
// as its JPEG encode. Labels are drawn before that, into the source's pixels, so they are
// placed and turned back here to come out upright.

export interface Turn {
  mirror: boolean;
  rotate: Rotation;
}

export const isTurned = (t: Turn): boolean => t.mirror || t.rotate !== 0;

/** `pipeline` mirrored, then rotated, as sharp applies flop before rotate whatever the call order. */
export function turned(pipeline: Sharp, t: Turn): Sharp {
  const mirrored = t.mirror ? pipeline.flop() : pipeline;
  return t.rotate === 0 ? mirrored : mirrored.rotate(t.rotate);
}

export function turnedSize(size: { width: number; height: number }, t: Turn): { width: number; height: number } {
  return t.rotate === 90 || t.rotate === 270 ? { width: size.height, height: size.width } : { width: size.width, height: size.height };
}

/** Undoes a turn. Mirror-then-rotate is a reflection, its own inverse; a plain rotation is undone by the opposite one. */
export function inverse(t: Turn): Turn {
  return t.mirror ? t : { mirror: false, rotate: ((360 - t.rotate) % 360) as Rotation };
}

/** Where pixel (x, y) of a `width`x`height` picture lands when the picture is turned by `t`. */
export function turnPoint(x: number, y: number, width: number, height: number, t: Turn): [number, number] {
  const mx = t.mirror ? width - 1 - x : x;
  if (t.rotate === 90) return [height - 1 - y, mx];
  if (t.rotate === 180) return [width - 1 - mx, height - 1 - y];
  if (t.rotate === 270) return [y, width - 1 - mx];
  return [mx, y];
}

// Turned labels, per label: renderLabel's cache hands out the same object for the same text, so
// a text overlay is turned once and a clock's labels go when renderLabel lets them go.
const turnedLabels = new WeakMap<RawImage, Map<string, Promise<RawImage>>>();

/** An RGBA label turned by `t`, cached; a failure is not kept. */
export function turnedLabel(label: RawImage, t: Turn): Promise<RawImage> {
  let byTurn = turnedLabels.get(label);
  if (!byTurn) turnedLabels.set(label, (byTurn = new Map()));
  const key = `${t.mirror} ${t.rotate}`;
  let result = byTurn.get(key);
  if (!result) {
    result = turned(sharp(label.data, { raw: label }), t)
      .raw()
      .toBuffer({ resolveWithObject: true })
      .then(({ data, info }) => ({ width: info.width, height: info.height, channels: 4 as const, data }));
    const cache = byTurn;
    result.catch(() => cache.delete(key));
    byTurn.set(key, result);
  }
  return result;
}
