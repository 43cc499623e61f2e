import { readdirSync, readFileSync } from 'node:fs';

// The process table as any local user sees it (Linux /proc): what a test checks when it asks
// which processes exist, and what their command lines give away.

export interface ProcessInfo {
  pid: number;
  /** Process group: a capture browser's helpers share its own pid as theirs. */
  pgid: number;
  /** R, S, D, Z (zombie: ended, waiting for its parent to collect it) ... */
  state: string;
  /** argv joined by spaces, as `ps` shows it to every user. */
  cmdline: string;
}

export function processes(): ProcessInfo[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // Fields after "pid (comm)": state, ppid, pgrp, ...; comm may hold spaces and parentheses.
        const [state, , pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
        return [{ pid: Number(pid), pgid: Number(pgid), state, cmdline }];
      } catch {
        // Gone between the listing and the read.
        return [];
      }
    });
}

/** The live processes of a group: a zombie has ended and holds nothing (no camera, no memory) but its pid. */
export function processGroup(pgid: number): ProcessInfo[] {
  return processes().filter((p) => p.pgid === pgid && p.state !== 'Z');
}
