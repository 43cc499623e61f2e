import { networkInterfaces } from 'node:os';

/** Where viewers reach the server: https with a certificate; `host` is --host's address, or undefined for all. */
export interface Served {
  secure: boolean;
  port: number;
  host: string | undefined;
}

/** One viewer URL per address this machine has on the network (IPv4; loopback if none). */
export function viewerUrls(served: Served, key: string | null): string[] {
  const { host } = served;
  const addresses = host === undefined || isWildcard(host)
    ? Object.values(networkInterfaces())
        .flat()
        .flatMap((a) => (a && a.family === 'IPv4' && !a.internal ? [a.address] : []))
    : [host];
  if (addresses.length === 0) addresses.push('127.0.0.1');
  return addresses.map((address) => urlFor(served, address, key));
}

/** The viewer URL for a browser on this computer: loopback when listening on all addresses, else the one address. */
export function localUrl(served: Served, key: string | null): string {
  const { host } = served;
  return urlFor(served, host === undefined || isWildcard(host) ? '127.0.0.1' : host, key);
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** The viewer URL at `address`: an IP address or a host name (kitchen-cam.local). */
export function urlFor(served: Served, address: string, key: string | null): string {
  const where = address.includes(':') ? `[${address}]` : address;
  return `${served.secure ? 'https' : 'http'}://${where}:${served.port}/${key ? `?key=${key}` : ''}`;
}
