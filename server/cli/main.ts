import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../config/paths.js';
import { stderrLog } from '../log.js';
import { HELP, parseCommand, type ServeOptions, UsageError } from './options.js';
import type { Output } from './output.js';
import { serve } from './serve.js';

const out: Output = { say: (line) => console.log(line), warn: stderrLog };

async function run(o: ServeOptions): Promise<void> {
  const serving = serve(o, out, version());
  // Listening from the start: a Ctrl-C while PushCam starts (the camera check takes seconds) ends it cleanly too.
  const stop = (): void => {
    setTimeout(() => process.exit(0), 1500).unref();
    void serving.then((close) => close(), () => undefined).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await serving;
  } catch (err) {
    out.warn((err as Error).message);
    process.exit(1);
  }
}

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

export async function main(argv: string[]): Promise<void> {
  try {
    const command = parseCommand(argv);
    if (command.kind === 'help') return out.say(HELP);
    if (command.kind === 'version') return out.say(`pushcam ${version()}`);
    await run(command.options);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    out.warn(err.message);
    process.exit(2);
  }
}

void main(process.argv.slice(2));
