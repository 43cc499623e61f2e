// Why PushCam ends a viewing on purpose, and what it tells the viewer: words the server draws
// into the stream's last picture and the viewer page shows.

/** Why PushCam ends a viewer's stream (or long-poll) on purpose. */
export type Farewell = 'kicked' | 'stopped' | 'restarting' | 'moved' | 'new-key' | 'expired';

/**
 * What the last picture of the stream says, a line each (server/hub/farewell.ts): every client
 * shows it, a browser, VLC or a dashboard alike. The viewer page says the same in sentences.
 */
export const FAREWELL_WORDS: Record<Farewell, string[]> = {
  kicked: ['The broadcaster disconnected you'],
  stopped: ['The broadcast has stopped'],
  restarting: ['PushCam is restarting', 'The picture is back in a moment'],
  moved: ['PushCam moved to another address', 'Ask the broadcaster for the new link'],
  'new-key': ['The access key has changed', 'Ask the broadcaster for the new link'],
  expired: ['This guest link has expired', 'Ask the broadcaster for a new link'],
};
