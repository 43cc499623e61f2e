import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { type Log, onChange } from '../log.js';

/** An answer with a status and a one-line reason, thrown from a route or a parameter check. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const notFound: RequestHandler = (req) => {
  throw new HttpError(404, `no such page: ${req.path}`);
};

/** For a known path asked with another method. */
export function methodNotAllowed(allow: string): RequestHandler {
  return (req, res) => {
    res.set('Allow', allow);
    throw new HttpError(405, `${req.method} is not allowed here; use ${allow.split(', ')[0]}`);
  };
}

/**
 * Every error becomes a short JSON answer; client mistakes never turn into a 5xx. Our own
 * HttpErrors are expected (a full server, no picture yet): the log gets one line, not one per
 * request; anything else is a bug, logged with its stack.
 */
export function errorHandler(log: Log): ErrorRequestHandler {
  const expected = onChange(log);
  return (err: unknown, req: Request, res, _next) => {
    const status = statusOf(err);
    if (err instanceof HttpError) {
      if (status >= 500) expected(`refused ${req.path}: ${err.message}`);
    } else if (status >= 500) {
      log(`${req.method} ${req.path} failed: ${(err as Error).stack ?? String(err)}`);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Our own HttpErrors carry words for the user; anything else is a bug not to be shown.
    const message = err instanceof HttpError || status < 500 ? (err as Error).message : 'internal error';
    res.status(status).type('application/json').send(JSON.stringify({ error: message }));
  };
}

function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  // express and its parsers mark client errors (bad encoding, malformed URL) with a 4xx status.
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) return status;
  if (err instanceof URIError) return 400;
  return 500;
}

/** One query parameter as a whole number in [min, max], or undefined when absent. */
export function intParam(req: Request, name: string, min: number, max: number): number | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) {
    throw new HttpError(400, `${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** One query parameter from a fixed list, or undefined when absent. */
export function enumParam<T extends string>(req: Request, name: string, allowed: readonly T[]): T | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) {
    throw new HttpError(400, `${name} must be one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

/** `?viewer=TOKEN`: the viewer page a request comes from (a random token it makes), or undefined. */
export function pageParam(req: Request): string | undefined {
  const raw = req.query.viewer;
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^[\w-]{8,64}$/.test(raw)) throw new HttpError(400, 'viewer must be 8 to 64 letters, digits, - or _');
  return raw;
}
