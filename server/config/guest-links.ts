import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import type { GuestLink, GuestLinkSpec } from '../../shared/contract.js';
import { fileProblem, isMissing, newAccessKey, writeFileAtomic } from './access-key.js';


/** What a presented key opens: a guest link that works, one that has expired, or none. */
export type GuestMatch = { link: GuestLink } | 'expired' | null;

/** What the HTTP server asks (server/http/auth.ts): read live, so a revoke or an expiry applies at the next request. */
export interface GuestKeys {
  match(given: string): GuestMatch;
}

/** Enough for a family and its devices; each link is a timer and a hash comparison per request. */
const MAX_GUEST_LINKS = 50;

/** Whether `value` can be a link's id: 8 random bytes in base64url (create), 11 characters. */
export function isGuestLinkId(value: unknown): value is string {
  return typeof value === 'string' && /^[\w-]{11}$/.test(value);
}

/** A link is kept in the file with the SHA-256 of its key, never the key: a leaked file lets nobody in. */
interface StoredLink extends GuestLink {
  keyHash: string;
}

/** setTimeout's longest wait; a later expiry is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function hashOf(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

function isExpired(link: GuestLink, now = Date.now()): boolean {
  return link.expiresAt !== null && link.expiresAt <= now;
}

/**
 * The guest links, kept in `guest-links.json` beside the settings (or in memory when the settings
 * are). Each key is shown to the broadcaster while this run lasts (for its QR code and copy
 * button) and only its hash is written, so a link made before a restart still works but can no
 * longer be shown. An expiring link has a timer: 'expired' is emitted at the moment it expires,
 * so its viewers are ended then, not at their next request.
 */
export class GuestLinks extends EventEmitter<{ expired: [GuestLink] }> {
  private readonly keys = new Map<string, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private saveProblem = '';

  private constructor(
    private readonly file: string | null,
    private readonly links: StoredLink[],
    private readonly notice: (line: string) => void,
  ) {
    super();
    for (const link of links) this.schedule(link);
  }

  static inMemory(): GuestLinks {
    return new GuestLinks(null, [], () => undefined);
  }

  /** The links saved in `file`; a damaged file is set aside (`<file>.bad-<time>`) and `notice` says so. */
  static load(file: string, notice: (line: string) => void): GuestLinks {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (!isMissing(err)) notice(`Your guest links could not be read (${fileProblem(err)}); none work until they are made again.`);
      return new GuestLinks(file, [], notice);
    }
    try {
      return new GuestLinks(file, parseLinks(JSON.parse(text)), notice);
    } catch {
      const backup = `${file}.bad-${Date.now()}`;
      try {
        renameSync(file, backup);
        notice(`Your guest links file was damaged; it was kept as ${backup} and no guest link works until one is made again.`);
      } catch (err) {
        notice(`Your guest links file was damaged and could not be set aside (${fileProblem(err)}); no guest link works.`);
      }
      return new GuestLinks(file, [], notice);
    }
  }

  /** Every link, expired ones too (the window says so until the broadcaster removes them). */
  list(): (GuestLink & { expired: boolean })[] {
    const now = Date.now();
    return this.links.map((link) => ({ ...publicPart(link), expired: isExpired(link, now) }));
  }

  /** The key of a link made in this run; undefined for one made before (only its hash was kept). */
  keyOf(id: string): string | undefined {
    return this.keys.get(id);
  }

  create(spec: GuestLinkSpec, now = Date.now()): { link: GuestLink; key: string } {
    if (this.links.length >= MAX_GUEST_LINKS) throw new Error(`there are ${MAX_GUEST_LINKS} guest links already; revoke one first`);
    const key = newAccessKey();
    const link: StoredLink = {
      id: randomBytes(8).toString('base64url'),
      name: spec.name,
      createdAt: now,
      expiresAt: spec.expiresInMs === null ? null : now + spec.expiresInMs,
      oneViewer: spec.oneViewer,
      lastSeen: null,
      keyHash: hashOf(key).toString('hex'),
    };
    this.links.push(link);
    this.keys.set(link.id, key);
    this.schedule(link);
    this.save();
    return { link: publicPart(link), key };
  }

  /** Removes a link: its key stops working at once. Throws for an id that names none. */
  revoke(id: string): GuestLink {
    const at = this.links.findIndex((link) => link.id === id);
    if (at < 0) throw new Error(`no guest link "${id}"`);
    const [link] = this.links.splice(at, 1);
    this.keys.delete(id);
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    this.save();
    return publicPart(link);
  }

  /** Compares with every link's hash in constant time, so the answer's timing tells nothing about any key. */
  match(given: string): GuestMatch {
    const hash = hashOf(given);
    let found: StoredLink | null = null;
    for (const link of this.links) {
      if (timingSafeEqual(hash, Buffer.from(link.keyHash, 'hex'))) found = link;
    }
    if (!found) return null;
    return isExpired(found) ? 'expired' : { link: publicPart(found) };
  }

  /** A viewer came or went through a link. */
  seen(id: string, at = Date.now()): void {
    const link = this.links.find((l) => l.id === id);
    if (!link) return;
    link.lastSeen = at;
    this.save();
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(link: StoredLink): void {
    if (link.expiresAt === null || isExpired(link)) return;
    const wait = Math.min(link.expiresAt - Date.now(), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      this.timers.delete(link.id);
      if (!this.links.includes(link)) return;
      if (isExpired(link)) this.emit('expired', publicPart(link));
      else this.schedule(link);
    }, wait);
    // An expiry alone must not keep a finished process alive.
    timer.unref();
    this.timers.set(link.id, timer);
  }

  private save(): void {
    if (!this.file) return;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileAtomic(this.file, `${JSON.stringify({ links: this.links }, null, 2)}\n`);
      this.saveProblem = '';
    } catch (err) {
      const problem = fileProblem(err);
      if (problem !== this.saveProblem) this.notice(`Your guest links could not be saved (${problem}); they work until PushCam quits.`);
      this.saveProblem = problem;
    }
  }
}

function publicPart({ id, name, createdAt, expiresAt, oneViewer, lastSeen }: StoredLink): GuestLink {
  return { id, name, createdAt, expiresAt, oneViewer, lastSeen };
}

/** The file's links; throws when it is not the shape this code writes (then it is set aside whole). */
function parseLinks(saved: unknown): StoredLink[] {
  const links = (saved as { links?: unknown } | null)?.links;
  if (!Array.isArray(links)) throw new Error('no list of links');
  return links.map((value: unknown): StoredLink => {
    const l = value as Record<string, unknown>;
    const time = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
    const ok =
      typeof l === 'object' && l !== null &&
      isGuestLinkId(l.id) &&
      typeof l.name === 'string' &&
      time(l.createdAt) &&
      (l.expiresAt === null || time(l.expiresAt)) &&
      typeof l.oneViewer === 'boolean' &&
      (l.lastSeen === null || time(l.lastSeen)) &&
      typeof l.keyHash === 'string' && /^[0-9a-f]{64}$/.test(l.keyHash);
    if (!ok) throw new Error('a link is damaged');
    return {
      id: l.id as string,
      name: l.name as string,
      createdAt: l.createdAt as number,
      expiresAt: l.expiresAt as number | null,
      oneViewer: l.oneViewer as boolean,
      lastSeen: l.lastSeen as number | null,
      keyHash: l.keyHash as string,
    };
  });
}
