import { readdirSync, readFileSync } from 'node:fs';
import { sampleProc } from './proc.js';

// CPU and memory of process trees and groups, from /proc: the capture browser is a dozen
// processes (browser, zygotes, GPU, network and video-capture utilities, renderers), none of
// which the bench starts itself.

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
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The name (field 2) is in parentheses and may hold spaces; fields 3 on follow the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      entries.push({ pid: Number(name), ppid: Number(fields[1]), pgrp: Number(fields[2]) });
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
