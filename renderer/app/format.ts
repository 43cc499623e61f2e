import { LIMITS } from '../../shared/limits.js';
import type { LinkSample, ViewerTier } from '../../shared/status.js';

// How numbers read in the window: short, with units, and stable in width where they tick.

/** The frame rate an interval gives; nothing for an interval the core would refuse. */
export function formatFps(intervalMs: number): string {
  const [min, max] = LIMITS.intervalMs;
  if (!Number.isInteger(intervalMs) || intervalMs < min || intervalMs > max) return '';
  const fps = 1000 / intervalMs;
  if (fps >= 1) return `${trim(fps)} fps`;
  return `1 frame every ${formatDuration(intervalMs)}`;
}

/**
 * The rate an interval asks for, and the one the source really gives (`measured`, frames a second;
 * 0 while it does not run) when that is more than a tenth off: "30 fps asked, 14 fps now".
 */
export function formatRate(intervalMs: number, measured: number): string {
  const asked = formatFps(intervalMs);
  if (!asked || measured <= 0 || Math.abs(measured - 1000 / intervalMs) <= 100 / intervalMs) return asked;
  return `${asked} asked, ${trim(measured)} fps now`;
}

/** "45 s", "2 min 05 s", "1 h 02 min". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${pad(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${pad(minutes % 60)} min`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${trim(bytes / 1024)} kB`;
  if (bytes < 1024 * 1024 * 1024) return `${trim(bytes / 1024 / 1024)} MB`;
  return `${trim(bytes / 1024 / 1024 / 1024)} GB`;
}

/** "12 fps · 7.6 Mbit/s · 180 ms behind"; the frame rate alone where the link is not known. */
export function formatLink(fps: number, link: LinkSample | null): string {
  const rate = `${fps} fps`;
  if (!link || link.deliveryBitsPerSecond === 0) return rate;
  return `${rate} · ${formatBitRate(link.deliveryBitsPerSecond)} · ${formatDelay(link.behindMs)} behind`;
}

/** The picture a viewer gets: "Main picture", "640 wide · q40", "Auto · 320 wide · q25". */
export function formatTier(tier: ViewerTier): string {
  const parts = [...(tier.width === null ? [] : [`${tier.width} wide`]), ...(tier.quality === null ? [] : [`q${tier.quality}`])];
  const picture = parts.length === 0 ? 'Main picture' : parts.join(' · ');
  return tier.auto ? `Auto · ${parts.length === 0 ? 'main picture' : picture}` : picture;
}

function formatBitRate(bitsPerSecond: number): string {
  if (bitsPerSecond < 1e6) return `${trim(bitsPerSecond / 1e3)} kbit/s`;
  if (bitsPerSecond < 1e9) return `${trim(bitsPerSecond / 1e6)} Mbit/s`;
  return `${trim(bitsPerSecond / 1e9)} Gbit/s`;
}

/** "180 ms", "1.2 s". */
function formatDelay(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${trim(ms / 1000)} s`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One decimal below 10, none above: "2.5", "12". */
function trim(n: number): string {
  return n < 10 ? String(Math.round(n * 10) / 10) : String(Math.round(n));
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
