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

/** Fields 3 onwards of /proc/<pid>/stat; the name (field 2) is in parentheses and may hold spaces. */
function statFields(pid: number | 'self'): number[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
}

export function sampleProc(pid: number): ProcSample {
  // utime and stime are fields 14 and 15 of the line, 11 and 12 here.
  const fields = statFields(pid);
  const ticks = fields[11] + fields[12];
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { cpuSeconds: ticks / TICKS_PER_SECOND, rssBytes: statusKb(status, 'VmRSS') * 1024, peakRssBytes: statusKb(status, 'VmHWM') * 1024 };
}

function statusKb(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : Number.NaN;
}

/**
 * CPU time the whole machine has spent busy so far, seconds, summed over cores (from /proc/stat).
 * The bench subtracts its own processes from it to show how much other work competed for the cores.
 */
export function machineBusySeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
  const [user, nice, system, , , irq, softirq, steal] = cpu;
  return (user + nice + system + irq + softirq + (steal || 0)) / TICKS_PER_SECOND;
}

/** CPU time of this process and of the children it has waited for (tjbench), seconds. */
export function ownCpuSeconds(): number {
  // utime, stime, cutime, cstime: fields 14 to 17.
  const f = statFields('self');
  return (f[11] + f[12] + f[13] + f[14]) / TICKS_PER_SECOND;
}

/**
 * Bytes the kernel holds unsent in the send buffers of the server's connections on `port` (the
 * Send-Q column of `ss`). Not part of any process's RSS, but memory a slow viewer pins, and
 * frames a viewer will see late: Linux grows a send buffer to several MB.
 */
export function kernelSendQueueBytes(port: number): number {
  try {
    const out = execFileSync('ss', ['-tnH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8', timeout: 5000 });
    // With a state filter ss leaves out the State column: Recv-Q, Send-Q, local, peer.
    return out
      .split('\n')
      .map((line) => Number(line.trim().split(/\s+/)[1]))
      .filter((n) => Number.isFinite(n))
      .reduce((a, b) => a + b, 0);
  } catch {
    return Number.NaN;
  }
}
