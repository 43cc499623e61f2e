import type { Request, Response } from 'express';
import { MAX_TIERS } from '../hub/tiers.js';
import type { Frame } from '../types.js';
import type { ViewerTier } from '../../shared/status.js';
import { HttpError, intParam } from './errors.js';

/** JPEG's own limit on a side. */
const MAX_WIDTH = 65535;
const MIN_WIDTH = 16;

/**
 * The picture a request asks for: `?width=N` (never more than the main picture's: a width at
 * least the newest frame's is the main width), `?quality=1-100`, or, for a stream,
 * `?quality=auto` (PushCam picks by the link). Neither: the main picture.
 */
export function tierParam(req: Request, newest: Frame | null, o: { stream: boolean }): ViewerTier {
  const auto = req.query.quality === 'auto';
  if (auto && !o.stream) throw new HttpError(400, 'quality=auto is for streams; give a quality from 1 to 100');
  if (auto && req.query.width !== undefined) throw new HttpError(400, 'quality=auto picks the width itself; leave out width');
  if (auto) return { auto, width: null, quality: null };
  const width = intParam(req, 'width', MIN_WIDTH, MAX_WIDTH) ?? null;
  const quality = validQuality(req);
  return { auto, width: newest && width !== null && width >= newest.width ? null : width, quality };
}

function validQuality(req: Request): number | null {
  if (req.query.quality === undefined) return null;
  const value = typeof req.query.quality === 'string' && /^\d{1,3}$/.test(req.query.quality) ? Number(req.query.quality) : NaN;
  if (!(value >= 1 && value <= 100)) throw new HttpError(400, 'quality must be a whole number from 1 to 100, or auto');
  return value;
}

/** A new tier when MAX_TIERS are being made gets 503 with a reason. */
export function refuseTier(res: Response): never {
  res.set('Retry-After', '10');
  throw new HttpError(503, `PushCam already makes ${MAX_TIERS} picture sizes besides the main one; watch without width and quality, or try again later`);
}
