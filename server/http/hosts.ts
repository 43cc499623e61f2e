import type { RequestHandler } from 'express';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { HttpError } from './errors.js';

/** How long the machine's interface addresses are trusted before they are read again (DHCP, Wi-Fi changes). */
const INTERFACES_TTL_MS = 5_000;
let interfaces = { at: -Infinity, addresses: new Set<string>() };

function interfaceAddresses(): Set<string> {
  const now = performance.now();
  if (now - interfaces.at > INTERFACES_TTL_MS) {
    const addresses = Object.values(networkInterfaces()).flat().flatMap((a) => (a ? [a.address.toLowerCase()] : []));
    interfaces = { at: now, addresses: new Set(addresses) };
  }
  return interfaces.addresses;
}

/** The name in a Host header, without its port, brackets, case or trailing dot; '' if it is not one. */
function hostName(header: string): string {
  const text = header.trim().toLowerCase();
  const name = text.startsWith('[') ? /^\[([0-9a-f:.]+)\](?::\d+)?$/.exec(text)?.[1] : /^([^:]+)(?::\d+)?$/.exec(text)?.[1];
  return (name ?? '').replace(/\.$/, '');
}

/**
 * Whether a browser that sent this Host header meant this machine: its loopback and interface
 * addresses, `localhost` (and names under it, which browsers keep on loopback), its host name
 * and host name.local, or one of `extraNames` (--allow-host, an mDNS name). A page of another
 * site that points its own name at this machine (DNS rebinding) sends its own name, and is refused.
 */
function hostAllowed(header: string, extraNames: readonly string[]): boolean {
  const name = hostName(header);
  if (!name) return false;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  const machine = hostname().toLowerCase();
  if (name === machine || name === `${machine}.local` || extraNames.some((extra) => hostName(extra) === name)) return true;
  const family = isIP(name);
  if (family === 4 && name.startsWith('127.')) return true;
  return family !== 0 && (name === '::1' || interfaceAddresses().has(name));
}

/**
 * Answers 421 to a request whose Host names another site. A request with no Host (HTTP/1.0
 * programs) passes: browsers always send one. An HTTP/1.1 request without one is malformed.
 */
export function checkHost(extraNames: () => readonly string[]): RequestHandler {
  return (req, _res, next) => {
    const host = req.headers.host;
    if (host === undefined) {
      if (req.httpVersion === '1.1') throw new HttpError(400, 'an HTTP/1.1 request needs a Host header');
      return next();
    }
    if (hostAllowed(host, extraNames())) return next();
    const name = hostName(host) || host;
    throw new HttpError(421, `this PushCam does not answer to the name "${name.slice(0, 100)}"; open it by this computer's address or name, or start it with --allow-host ${name.slice(0, 100)}`);
  };
}
