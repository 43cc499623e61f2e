import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CameraReport, Settings } from '../../shared/contract.js';
import type { Log } from '../log.js';
import type { FrameSource } from '../types.js';
import { DirSource, FileSource } from './file.js';
import { PatternSource } from './pattern.js';

// Every kind of source PushCam serves, in one place: what names it, how it is made from the
// settings, how it is checked before PushCam starts, and how it is described to the user. The
// camera's frames come from a capture page through the control service, which makes its source.

export type SourceSpec = { kind: 'camera' } | { kind: 'pattern' } | { kind: 'file' | 'dir'; path: string };

/** A source that cannot work as given, found before anything starts: one line saying what to do. */
export class SourceError extends Error {}

/** The source for a spec other than the camera, made from the settings it uses (SOURCE_SETTINGS). */
export function makeSource(spec: Exclude<SourceSpec, { kind: 'camera' }>, s: Settings, log: Log): FrameSource {
  if (spec.kind === 'pattern') return new PatternSource({ width: s.width, height: s.height, intervalMs: s.intervalMs });
  const Source = spec.kind === 'file' ? FileSource : DirSource;
  return new Source({ path: spec.path, intervalMs: s.intervalMs, log });
}

/**
 * Throws a SourceError for a file or folder that cannot be what the spec says: a folder that is
 * not there, a file that is a folder, a folder that is a file. A file that is not there yet is
 * fine (another program will write it) as long as its folder is.
 */
export function checkSource(spec: SourceSpec): void {
  if (spec.kind !== 'file' && spec.kind !== 'dir') return;
  const option = `--source ${spec.kind}:${spec.path}`;
  const found = kindOf(spec.path, option);
  if (spec.kind === 'dir') {
    if (found === null) throw new SourceError(`${option}: there is no folder ${spec.path}`);
    if (found !== 'folder') throw new SourceError(`${option}: ${spec.path} is a file, not a folder; for one file, use --source file:${spec.path}`);
    return;
  }
  if (found === 'folder') throw new SourceError(`${option}: ${spec.path} is a folder; for the newest image in it, use --source dir:${spec.path}`);
  if (found === null && kindOf(dirname(spec.path), option) !== 'folder') {
    throw new SourceError(`${option}: there is no folder ${dirname(spec.path)} for the file to appear in`);
  }
}

function kindOf(path: string, option: string): 'file' | 'folder' | null {
  try {
    return statSync(path).isDirectory() ? 'folder' : 'file';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new SourceError(`${option}: cannot look at ${path} (${(err as Error).message})`);
  }
}

/**
 * "the test pattern, 1280x720 at 10 fps": what the terminal says PushCam serves. For a camera,
 * what it reported: the size it really gives, which may not be the one asked.
 */
export function describeSource(spec: SourceSpec, s: Settings, camera: CameraReport | null): string {
  const rate = s.intervalMs <= 1000 ? `${Math.round(10_000 / s.intervalMs) / 10} fps` : `one frame every ${s.intervalMs / 1000} s`;
  const every = `checked every ${s.intervalMs} ms`;
  const asked = `${s.width}x${s.height}`;
  switch (spec.kind) {
    case 'camera': {
      if (camera?.state !== 'capturing') return `${s.cameraLabel ? `the camera "${s.cameraLabel}"` : 'the default camera'}, asked for ${asked} at ${rate}`;
      const gives = `${camera.width}x${camera.height}`;
      return `the camera "${camera.label}", ${gives === asked ? gives : `asked for ${asked}, the camera gives ${gives}`}, at up to ${rate}`;
    }
    case 'pattern':
      return `the test pattern, ${s.width}x${s.height} at ${rate}`;
    case 'file':
      return `the image ${spec.path}, ${every}`;
    case 'dir':
      return `the newest image in ${spec.path}, ${every}`;
  }
}
