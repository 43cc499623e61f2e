import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Encoder } from '../server/encoder/encoder.js';
import { encodeTier } from '../server/encoder/tiers.js';
import { Hub } from '../server/hub/hub.js';
import { FRAMES_IN_FLIGHT, Pipeline } from '../server/pipeline.js';
import type { EncodeSettings, FrameSource, RawImage, SourceImage } from '../server/types.js';
import { median } from './stats.js';

export interface LivePathResult {
  /** Frames the hub got per second. */
  fps: number;
  /** CPU time of the whole process (every thread) per published frame, ms. */
  cpuMsPerFrame: number;
}

/**
 * An Encoder whose every encode asks the source for the next frame: the source always has one
 * waiting for the encoder, as a camera faster than the encoder would, without a timer spinning
 * on the main thread to get there.
 */
class PullingEncoder extends Encoder {
  onEncode: () => void = () => {};

  override encode(input: SourceImage): ReturnType<Encoder['encode']> {
    queueMicrotask(this.onEncode);
    return super.encode(input);
  }
}

/**
 * PushCam's live path as it runs: the real Pipeline (its frames in flight, its ordering) into a
 * real Hub with one holder of demand, fed the same picture by a source that always has a newer
 * frame. Each encode's start brings exactly one new frame, so none is ever replaced while waiting
 * and the pipeline holds the newest `framesInFlight + 1`; the ring of buffers is one longer, so no
 * buffer is handed out again while it is still being encoded (overlays draw into it).
 */
export class LivePath {
  private readonly runs: LivePathResult[] = [];

  constructor(
    private readonly picture: RawImage,
    private readonly settings: Partial<EncodeSettings>,
    private readonly ms: number,
    readonly framesInFlight = FRAMES_IN_FLIGHT,
  ) {}

  async runOnce(): Promise<void> {
    const encoder = new PullingEncoder(this.settings);
    const hub = new Hub({ encodeTier: (main, spec) => encodeTier(main, spec, encoder.settings.quality) });
    const errors: string[] = [];
    const ring = Array.from({ length: this.framesInFlight + 2 }, () => Buffer.from(this.picture.data));
    let next = 0;
    let emit: ((image: SourceImage) => void) | null = null;
    const frame = (): SourceImage => ({ kind: 'raw', image: { ...this.picture, data: ring[next++ % ring.length] } });
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
    const pipeline = new Pipeline(source, encoder, hub, (line) => errors.push(line), this.framesInFlight);
    const release = hub.hold();
    await sleep(Math.min(200, this.ms / 2));
    const from = { at: performance.now(), cpu: process.cpuUsage(), published };
    await sleep(this.ms);
    const cpu = process.cpuUsage(from.cpu);
    const frames = published - from.published;
    this.runs.push({ fps: (frames * 1000) / (performance.now() - from.at), cpuMsPerFrame: (cpu.user + cpu.system) / 1000 / frames });
    release();
    pipeline.close();
    if (errors.length > 0) throw new Error(`the live path failed: ${errors[0]}`);
  }

  result(): LivePathResult {
    if (this.runs.length === 0) throw new Error('the live path has not run');
    return { fps: median(this.runs.map((r) => r.fps)), cpuMsPerFrame: median(this.runs.map((r) => r.cpuMsPerFrame)) };
  }
}
