import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

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

// Process trees and groups: the capture browser is a dozen processes (browser, zygotes, GPU,
// network and video-capture utilities, renderers), none of which the bench starts itself.

export interface ProcEntry {
  pid: number;
  ppid: number;
  pgrp: number;
}

/** Every process now, with its parent and process group (fields 4 and 5 of /proc/<pid>/stat). */
export function listProcs(): ProcEntry[] {
  const entries: ProcEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const fields = statFields(Number(name));
      entries.push({ pid: Number(name), ppid: fields[1], pgrp: fields[2] });
    } catch {
      // Gone between readdir and read.
    }
  }
  return entries;
}

/** `root` and every process below it. */
export function treeOf(root: number, procs: ProcEntry[] = listProcs()): number[] {
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const p of procs) if (p.ppid === tree[i]) tree.push(p.pid);
  return tree;
}

/** Every process in group `pgrp`: the capture browser runs in its own group (headless-browser.ts). */
export function groupOf(pgrp: number, procs: ProcEntry[] = listProcs()): number[] {
  return procs.filter((p) => p.pgrp === pgrp).map((p) => p.pid);
}

/** The NUL-separated command line of `pid`, as one string with spaces; '' if it is gone. */
export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** CPU seconds so far of each process that still exists, by pid. */
export function cpuByPid(pids: readonly number[]): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const pid of pids) {
    try {
      cpu.set(pid, sampleProc(pid).cpuSeconds);
    } catch {
      // Exited.
    }
  }
  return cpu;
}

/**
 * CPU seconds between two readings, over the processes of the second one; a process born in
 * between counts from zero. One that exited in between is missed (none does while capturing).
 */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let seconds = 0;
  for (const [pid, now] of after) seconds += now - (before.get(pid) ?? 0);
  return seconds;
}

/**
 * Proportional set size summed over `pids`: pages shared between Chromium's processes count once
 * in total, not once per process as summed RSS would.
 */
export function pssBytes(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (match) kb += Number(match[1]);
    } catch {
      // Exited.
    }
  }
  return kb * 1024;
}
