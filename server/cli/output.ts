import type { Hub } from '../hub/hub.js';
import type { ViewerInfo } from '../../shared/status.js';
import { describeUserAgent } from '../user-agent.js';

/** Where the command line writes: the URLs and viewers to stdout, problems to stderr. */
export interface Output {
  say(line: string): void;
  warn(line: string): void;
}

/** A line per viewer that comes or goes: "Viewer joined: 192.168.1.9 (Safari on iOS), 2 watching". */
export function logViewers(hub: Hub, out: Output): void {
  const describe = (v: ViewerInfo): string => `${v.ip} (${describeUserAgent(v.userAgent)}), ${hub.viewerCount} watching`;
  hub.on('joined', (v) => out.say(`Viewer joined: ${describe(v)}`));
  hub.on('left', (v) => out.say(`Viewer left: ${describe(v)}`));
}
