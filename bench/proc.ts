import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

// Other processes' CPU time and memory, read from /proc so the process under test does no
// bookkeeping of its own for the bench. Covers all threads (libuv's pool, sharp's workers).

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** Fields 3 onwards of /proc/<pid>/stat; the name (field 2) is in parentheses and may hold spaces. */
function statFields(pid: number): number[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
}

const statusKb = (status: string, field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;

/** Resident memory now and at its peak (VmHWM), bytes. */
export function memoryOf(pid: number): { rssBytes: number; peakRssBytes: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssBytes: statusKb(status, 'VmRSS'), peakRssBytes: statusKb(status, 'VmHWM') };
}

/**
 * CPU seconds so far of `pids` (user + system, fields 14-17), with the children each has reaped,
 * so a tree's total holds when a process in it ends; one that is gone counts nothing.
 */
export function cpuOf(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = statFields(pid);
      ticks += f[11] + f[12] + f[13] + f[14];
    } catch {
      // Exited.
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** CPU time the whole machine has been busy so far, seconds summed over cores (/proc/stat): all but idle and iowait. */
function machineBusySeconds(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + (steal || 0)) / TICKS_PER_SECOND;
}

export interface CpuMark {
  machine: number;
  /** The bench's own processes: this one and every process below it (servers, viewers, PushCam's browser, tjbench). */
  own: number;
}

export const cpuMark = (): CpuMark => ({ machine: machineBusySeconds(), own: cpuOf(treeOf(process.pid)) });

/** How much of one core everything else on the machine used between two marks `seconds` apart, %: high means disturbed. */
export function otherCpuPercent(before: CpuMark, after: CpuMark, seconds: number): number {
  return Math.max(0, ((after.machine - before.machine - (after.own - before.own)) / seconds) * 100);
}

/**
 * Bytes the kernel holds unsent in the send buffers of the server's connections on `port` (the
 * Send-Q column of `ss`): memory a stalled viewer pins outside any RSS.
 */
export function kernelSendQueueBytes(port: number): number {
  try {
    const out = execFileSync('ss', ['-tnH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8', timeout: 5000 });
    // With a state filter ss leaves out the State column: Recv-Q, Send-Q, local, peer.
    return out.split('\n').reduce((sum, line) => sum + (Number(line.trim().split(/\s+/)[1]) || 0), 0);
  } catch {
    return Number.NaN;
  }
}

/** Every process now, with its parent and process group (fields 4 and 5 of /proc/<pid>/stat). */
function listProcs(): { pid: number; ppid: number; pgrp: number }[] {
  const entries = [];
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
export function treeOf(root: number): number[] {
  const procs = listProcs();
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const p of procs) if (p.ppid === tree[i]) tree.push(p.pid);
  return tree;
}

/** Every process in group `pgrp`: the capture browser runs in its own group (headless-browser.ts). */
export const groupOf = (pgrp: number): number[] => listProcs().filter((p) => p.pgrp === pgrp).map((p) => p.pid);

/** The command line of `pid`, its arguments joined by spaces; '' if it is gone. */
export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Proportional set size summed over `pids`: pages Chromium's processes share count once in total, not once each as in RSS. */
export function pssBytes(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // Exited.
    }
  }
  return kb * 1024;
}
