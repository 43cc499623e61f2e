import { networkInterfaces } from 'node:os';

/** One viewer URL per address this machine has on the network (IPv4; loopback if none). */
export function viewerUrls(port: number, host: string | undefined, key: string | null): string[] {
  const addresses = host === undefined || isWildcard(host)
    ? Object.values(networkInterfaces())
        .flat()
        .flatMap((a) => (a && a.family === 'IPv4' && !a.internal ? [a.address] : []))
    : [host];
  if (addresses.length === 0) addresses.push('127.0.0.1');
  return addresses.map((address) => urlFor(address, port, key));
}

/** The viewer URL for a browser on this computer: loopback when listening on all addresses, else the one address. */
export function localUrl(port: number, host: string | undefined, key: string | null): string {
  return urlFor(host === undefined || isWildcard(host) ? '127.0.0.1' : host, port, key);
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

function urlFor(address: string, port: number, key: string | null): string {
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}/${key ? `?key=${key}` : ''}`;
}
