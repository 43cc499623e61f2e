import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleProc } from '../../bench/proc.js';

// `pushcam serve` as a user runs it, in its own process, for the fuzz and the soak: a crash is
// the process ending, and its memory and descriptors (read from /proc) are its own alone.

const BIN = join(import.meta.dirname, '../../bin/pushcam.js');
const START_TIMEOUT_MS = 15_000;

export interface ServeChild {
  pid: number;
  port: number;
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  /** What the server wrote to standard error so far, one entry per line. */
  errors: string[];
  /** The exit code or signal once it has ended, else null. */
  ended(): string | null;
  rssMB(): number;
  /** Open file descriptors (sockets, files, pipes). */
  fds(): number;
  /** SIGTERM, SIGKILL after a grace period; removes its config folder. */
  stop(): Promise<void>;
}

/** Starts `pushcam serve --host 127.0.0.1 --port 0 ...args` with a config folder of its own; resolves once it listens. */
export async function startServeChild(args: string[]): Promise<ServeChild> {
  const configDir = mkdtempSync(join(tmpdir(), 'pushcam-serve-child-'));
  const child = spawn(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', '0', ...args], {
    env: { ...process.env, PUSHCAM_CONFIG_DIR: configDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const errors: string[] = [];
  let ending: string | null = null;
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      ending = signal ?? `exit code ${code}`;
      resolve();
    }),
  );
  lines(child, 'stderr', (line) => errors.push(line));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pushcam serve did not start within ${START_TIMEOUT_MS} ms: ${errors.join(' ')}`)), START_TIMEOUT_MS);
    lines(child, 'stdout', (line) => {
      const match = /^Viewer: http:\/\/127\.0\.0\.1:(\d+)\//.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`pushcam serve ended at start (${ending}): ${errors.join(' ')}`));
    });
  });
  const pid = child.pid!;
  return {
    pid,
    port,
    origin: `http://127.0.0.1:${port}`,
    errors,
    ended: () => ending,
    rssMB: () => sampleProc(pid).rssBytes / 1e6,
    fds: () => readdirSync(`/proc/${pid}/fd`).length,
    async stop() {
      if (ending === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(configDir, { recursive: true, force: true });
    },
  };
}

function lines(child: ChildProcess, stream: 'stdout' | 'stderr', onLine: (line: string) => void): void {
  let rest = '';
  child[stream]!.setEncoding('utf8').on('data', (text: string) => {
    const parts = (rest + text).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) onLine(line);
  });
}
