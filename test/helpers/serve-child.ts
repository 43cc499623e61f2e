import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { memoryOf } from '../../bench/proc.js';

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
  /**
   * Its memory after a full garbage collection, MB, asked through the Node inspector (started
   * with `inspect: true` only): what the process still holds, apart from what V8 and the
   * allocator keep in reserve once a load has grown them.
   */
  memoryAfterGc(): Promise<{ rss: number; heapUsed: number; external: number }>;
  /** SIGTERM, SIGKILL after a grace period; removes its config folder. */
  stop(): Promise<void>;
}

/** Starts `pushcam serve --host 127.0.0.1 --port 0 ...args` with a config folder of its own; resolves once it listens. */
export async function startServeChild(args: string[], o: { inspect?: boolean } = {}): Promise<ServeChild> {
  const configDir = mkdtempSync(join(tmpdir(), 'pushcam-serve-child-'));
  const child = spawn(process.execPath, [...(o.inspect ? ['--inspect=127.0.0.1:0'] : []), BIN, 'serve', '--host', '127.0.0.1', '--port', '0', ...args], {
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
  let inspector = '';
  lines(child, 'stderr', (line) => {
    const match = /^Debugger listening on (ws:\S+)/.exec(line);
    if (match) inspector = match[1]!;
    else if (!(o.inspect && /^(For help, see: |Debugger attached)/.test(line))) errors.push(line);
  });
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
    rssMB: () => memoryOf(pid).rssBytes / 1e6,
    fds: () => readdirSync(`/proc/${pid}/fd`).length,
    async memoryAfterGc() {
      if (!inspector) throw new Error('memoryAfterGc needs startServeChild(args, { inspect: true })');
      const usage = JSON.parse(await inspect(inspector, 'JSON.stringify(process.memoryUsage())')) as { heapUsed: number; external: number };
      return { rss: memoryOf(pid).rssBytes / 1e6, heapUsed: usage.heapUsed / 1e6, external: usage.external / 1e6 };
    },
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

/** Collects garbage in the process behind the inspector at `url`, then evaluates `expression` there; resolves to its string value. */
async function inspect(url: string, expression: string): Promise<string> {
  const ws = new WebSocket(url);
  try {
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const answers = new Map<number, (result: unknown) => void>();
    ws.on('message', (data) => {
      const { id, result } = JSON.parse(String(data)) as { id?: number; result?: unknown };
      if (id !== undefined) answers.get(id)?.(result);
    });
    const call = (id: number, method: string, params: object = {}): Promise<unknown> =>
      new Promise((resolve) => {
        answers.set(id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      });
    await call(1, 'HeapProfiler.collectGarbage');
    const result = (await call(2, 'Runtime.evaluate', { expression, returnByValue: true })) as { result: { value: string } };
    return result.result.value;
  } finally {
    ws.close();
  }
}
