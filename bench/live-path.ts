import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Encoder } from '../server/encoder/encoder.js';
import { encodeTier } from '../server/encoder/tiers.js';
import { Hub } from '../server/hub/hub.js';
import { FRAMES_IN_FLIGHT, Pipeline } from '../server/pipeline.js';
import type { FrameSource, RawImage, SourceImage } from '../server/types.js';
import type { EncodeSettings } from '../shared/settings-table.js';
import { LIVE_PATH_MS } from './settings.js';
import { median } from './stats.js';

/** An Encoder whose every encode asks the source for the next frame, as a camera faster than the encoder would, without a timer spinning on the main thread. */
class PullingEncoder extends Encoder {
  onEncode: () => void = () => {};

  override encode(input: SourceImage): ReturnType<Encoder['encode']> {
    queueMicrotask(this.onEncode);
    return super.encode(input);
  }
}

type Run = { fps: number; cpuMsPerFrame: number };

/**
 * PushCam's live path as it runs: the real Pipeline (its frames in flight, its ordering) into a
 * real Hub with one holder of demand, fed by a source that always has a newer frame: frames
 * published per second, and the process's CPU time (every thread) per frame. Each encode's start
 * brings exactly one new frame, so the pipeline holds the newest FRAMES_IN_FLIGHT + 1; the ring
 * of buffers is one longer, so none is handed out again while being encoded (overlays draw into it);
 * `result` gives the medians of the runs so far.
 */
export function livePath(picture: RawImage, settings: Partial<EncodeSettings>): { runOnce: () => Promise<void>; result: () => Run } {
  const runs: Run[] = [];
  const runOnce = async (): Promise<void> => {
    const encoder = new PullingEncoder(settings);
    const hub = new Hub({ encodeTier: (main, spec) => encodeTier(main, spec, encoder.settings.quality) });
    const errors: string[] = [];
    const ring = Array.from({ length: FRAMES_IN_FLIGHT + 2 }, () => Buffer.from(picture.data));
    let next = 0;
    let emit: ((image: SourceImage) => void) | null = null;
    const frame = (): SourceImage => ({ kind: 'raw', image: { ...picture, data: ring[next++ % ring.length] } });
    const source: FrameSource = {
      kind: 'bench',
      start: (e) => {
        emit = e;
        e(frame());
      },
      stop: () => (emit = null),
      status: () => ({ kind: 'bench', state: 'running' }),
    };
    encoder.onEncode = () => emit?.(frame());
    let published = 0;
    hub.on('frame', () => published++);
    const pipeline = new Pipeline(source, encoder, hub, (line) => errors.push(line), FRAMES_IN_FLIGHT);
    const release = hub.hold();
    await sleep(Math.min(200, LIVE_PATH_MS / 2));
    const from = { at: performance.now(), cpu: process.cpuUsage(), published };
    await sleep(LIVE_PATH_MS);
    const cpu = process.cpuUsage(from.cpu);
    const frames = published - from.published;
    runs.push({ fps: (frames * 1000) / (performance.now() - from.at), cpuMsPerFrame: (cpu.user + cpu.system) / 1000 / frames });
    release();
    pipeline.close();
    if (errors.length > 0) throw new Error(`the live path failed: ${errors[0]}`);
  };
  return { runOnce, result: () => ({ fps: median(runs.map((r) => r.fps)), cpuMsPerFrame: median(runs.map((r) => r.cpuMsPerFrame)) }) };
}
