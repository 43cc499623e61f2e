import { getResponder, type CiaoService, type Responder } from '@homebridge/ciao';
import { EventEmitter } from 'node:events';
import type { Log } from '../log.js';

// PushCam on the LAN by name: an `_http._tcp` DNS-SD service named after the camera, on a host
// name of its own made from the camera's name (kitchen-cam.local), through @homebridge/ciao. ciao
// probes both names before it claims them (RFC 6762 8.1), renames on a conflict ("kitchen-cam-2"),
// answers for the host name itself, so the name resolves wherever mDNS does, whether or not the
// system runs Avahi or Bonjour, and says goodbye when the service ends. The announcement carries
// the name, the port and the addresses only: never the key.

export interface Announcement {
  /** The camera's name; '' = "PushCam". */
  name: string;
  port: number;
  /** --host: the one address to announce; all of this computer's otherwise. */
  address?: string;
}

/** The longest DNS label, in bytes (RFC 1035). */
const LABEL_MAX = 63;

/** The .local host name made from the camera's name: letters and digits, dashes between words. */
export function hostLabel(name: string): string {
  const label = name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, LABEL_MAX)
    .replace(/-+$/, '');
  return label || 'pushcam';
}

/** The service's instance name: the camera's name as it is, cut to a whole character within 63 bytes. */
function instanceName(name: string): string {
  let text = name.trim() || 'PushCam';
  while (Buffer.byteLength(text) > LABEL_MAX) text = [...text].slice(0, -1).join('');
  return text;
}

function same(a: Announcement | null, b: Announcement | null): boolean {
  return a === b || (a !== null && b !== null && a.name === b.name && a.port === b.port && a.address === b.address);
}

/**
 * The announcement now: `set` changes it (a new port or name withdraws the old one and announces
 * the new, as ciao cannot change a port once announced), null withdraws it. Changes are made one
 * after the other; 'change' is emitted when `hostname` changes.
 */
export class Announcer extends EventEmitter<{ change: [] }> {
  /** The host name viewers can use (kitchen-cam.local) once it is announced; '' otherwise. */
  hostname = '';
  private responder: Responder | null = null;
  private service: CiaoService | null = null;
  private current: Announcement | null = null;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private problem = '';

  constructor(private readonly log: Log) {
    super();
  }

  set(next: Announcement | null): Promise<void> {
    this.queue = this.queue.then(() => this.apply(this.closed ? null : next));
    return this.queue;
  }

  /** Withdraws the announcement (goodbye packets) and lets go of the mDNS socket. */
  async close(): Promise<void> {
    this.closed = true;
    await this.set(null);
    const responder = this.responder;
    this.responder = null;
    await responder?.shutdown().catch(() => undefined);
  }

  private async apply(next: Announcement | null): Promise<void> {
    if (same(this.current, next)) return;
    await this.withdraw();
    this.current = next;
    if (!next) return;
    try {
      this.responder ??= getResponder();
      const service = this.responder.createService({
        name: instanceName(next.name),
        type: 'http',
        port: next.port,
        hostname: hostLabel(next.name),
        txt: { path: '/' },
        restrictedAddresses: next.address ? [next.address] : undefined,
      });
      this.service = service;
      service.on('hostname-change', () => this.showHostname(service));
      await service.advertise();
      this.problem = '';
      this.showHostname(service);
    } catch (err) {
      const line = `mDNS: the camera could not be announced on the network (${(err as Error).message.split('\n')[0]}); its links by address still work`;
      if (line !== this.problem) this.log(line);
      this.problem = line;
      await this.withdraw();
    }
  }

  private showHostname(service: CiaoService): void {
    if (service !== this.service) return;
    this.setHostname(service.getHostname().replace(/\.$/, ''));
  }

  private setHostname(hostname: string): void {
    if (hostname === this.hostname) return;
    this.hostname = hostname;
    this.emit('change');
  }

  private async withdraw(): Promise<void> {
    const service = this.service;
    this.service = null;
    this.setHostname('');
    if (!service) return;
    await service.end().catch(() => undefined);
    await service.destroy().catch(() => undefined);
  }
}
