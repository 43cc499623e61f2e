// PushCam's log: the core says plain sentences to a Log ("port 8080 was taken meanwhile"); where
// they are written (the terminal, the desktop app's console) the one "pushcam: " prefix is added.
// Tests hand the core a Log that keeps the sentences.

export type Log = (line: string) => void;

const PREFIX = 'pushcam: ';

/** A Log that writes each line to `write` with PushCam's prefix, never twice, whoever wrote the line. */
function prefixed(write: (text: string) => void): Log {
  return (line) => write(line.startsWith(PREFIX) ? line : `${PREFIX}${line}`);
}

/** The terminal's log of problems: standard error, prefixed. */
export const stderrLog: Log = prefixed((text) => console.error(text));

/**
 * For a condition that is reported over and over (a bad frame per frame, a full server per
 * viewer): says each message once, again only after another one, or after '' (the trouble ended).
 */
export function onChange(log: Log): (message: string) => void {
  let last = '';
  return (message) => {
    if (message && message !== last) log(message);
    last = message;
  };
}
