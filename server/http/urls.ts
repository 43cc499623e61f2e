import { networkInterfaces } from 'node:os';

/** One viewer URL per address this machine has on the network (IPv4; loopback if none). */
export function viewerUrls(port: number, host: string | undefined, key: string | null): string[] {
  const query = key ? `?key=${key}` : '';
  const wildcard = host === undefined || host === '0.0.0.0' || host === '::';
  const addresses = wildcard
    ? Object.values(networkInterfaces())
        .flat()
        .flatMap((a) => (a && a.family === 'IPv4' && !a.internal ? [a.address] : []))
    : [host.includes(':') ? `[${host}]` : host];
  if (addresses.length === 0) addresses.push('127.0.0.1');
  return addresses.map((address) => `http://${address}:${port}/${query}`);
}
