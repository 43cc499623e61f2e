import type { Socket } from 'node:net';

/** The peer's address, without the IPv4-mapped prefix of a dual-stack socket. */
export function peerAddress(socket: Socket): string {
  return (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

/**
 * What PushCam keeps about each client address (failed keys, the last logged mistake), bounded:
 * past `max` addresses the one touched longest ago is forgotten, so a flood of addresses costs a
 * fixed amount of memory.
 */
export class PerAddress<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly max: number) {}

  get(address: string): V | undefined {
    return this.entries.get(address);
  }

  /** Stores the value as the newest entry (a Map keeps insertion order: the first is the oldest). */
  set(address: string, value: V): void {
    this.entries.delete(address);
    this.entries.set(address, value);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
  }

  delete(address: string): void {
    this.entries.delete(address);
  }

  get size(): number {
    return this.entries.size;
  }
}
