import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// Another process's CPU time and memory, read from /proc so the process under test does no
// bookkeeping of its own for the bench. Covers all its threads (libuv's pool, sharp's workers).

const TICKS_PER_SECOND = clockTicks();

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

export interface ProcSample {
  /** User + system CPU time so far, seconds. */
  cpuSeconds: number;
  rssBytes: number;
  /** The largest RSS the process has had since it started (VmHWM). */
  peakRssBytes: number;
}

export function sampleProc(pid: number): ProcSample {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { cpuSeconds: ticks / TICKS_PER_SECOND, rssBytes: statusKb(status, 'VmRSS') * 1024, peakRssBytes: statusKb(status, 'VmHWM') * 1024 };
}

function statusKb(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : Number.NaN;
}
