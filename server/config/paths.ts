import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout or installed package: the nearest folder above this file with a package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the PushCam folder (no package.json above the code)');
    dir = parent;
  }
  return dir;
}

/**
 * The user's PushCam config folder: $PUSHCAM_CONFIG_DIR if set (tests, portable installs), else
 * XDG on Linux, Application Support on macOS, %APPDATA% on Windows.
 */
export function configDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.PUSHCAM_CONFIG_DIR) return env.PUSHCAM_CONFIG_DIR;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'PushCam');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'PushCam');
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'pushcam');
}
