import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import sharp from 'sharp';

/** One line on what the figures were measured on. */
export function machineNote(): string {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown CPU';
  return [
    `${availableParallelism()} cores (nproc), ${cpu}`,
    `Node ${process.version}`,
    `sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips} (its JPEG codec: mozjpeg ${sharp.versions.mozjpeg ?? '?'}, a libjpeg-turbo fork)`,
    `tjbench from libjpeg-turbo ${debianVersion('libjpeg-turbo-progs')}`,
  ].join(' · ');
}

function debianVersion(pkg: string): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' }).replace(/^\d+:/, '').trim();
  } catch {
    return '(version unknown)';
  }
}
