import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from './fixtures.js';

// Certificates a test makes with the openssl command: its own CA, and leaf certificates that CA
// signs for localhost and 127.0.0.1, as mkcert makes them for a user. Removed when the test ends.

const run = promisify(execFile);

export interface TestCertificates {
  dir: string;
  /** The CA's certificate (PEM), for clients that trust it. */
  ca: Buffer;
  caFile: string;
  /** The files PushCam is given. */
  cert: string;
  key: string;
  /** The serial number of the leaf in `cert` now (hex, as getPeerCertificate gives it). */
  serial(): Promise<string>;
  /** base64 SHA-256 of the leaf's public key, for Chromium's --ignore-certificate-errors-spki-list. */
  spki(): Promise<string>;
  /** Writes a new leaf and key in place (each renamed over the old file, as renewal tools do). */
  renew(): Promise<void>;
  /** A key of another pair, which does not match the certificate. */
  otherKey(): Promise<string>;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function makeCertificates(t: TestContext): Promise<TestCertificates> {
  const dir = tempDir(t, 'tls');
  const at = (name: string): string => join(dir, name);
  await run('openssl', ['req', '-x509', ...EC, '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '2', '-subj', '/CN=PushCam test CA']);
  await writeFile(at('leaf.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n');
  let generation = 0;
  const leaf = async (): Promise<void> => {
    generation++;
    const [key, csr, cert] = [`new-${generation}.key`, `new-${generation}.csr`, `new-${generation}.pem`].map(at);
    await run('openssl', ['req', ...EC, '-keyout', key, '-out', csr, '-subj', '/CN=localhost']);
    await run('openssl', ['x509', '-req', '-in', csr, '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-set_serial', String(1000 + generation), '-days', '2', '-extfile', at('leaf.ext'), '-out', cert]);
    await rename(cert, at('cert.pem'));
    await rename(key, at('key.pem'));
  };
  await leaf();
  const ca = await readFile(at('ca.pem'));
  return {
    dir,
    ca,
    caFile: at('ca.pem'),
    cert: at('cert.pem'),
    key: at('key.pem'),
    serial: async () => new X509Certificate(await readFile(at('cert.pem'))).serialNumber,
    spki: async () => {
      const publicKey = new X509Certificate(await readFile(at('cert.pem'))).publicKey.export({ type: 'spki', format: 'der' });
      return createHash('sha256').update(publicKey).digest('base64');
    },
    renew: leaf,
    otherKey: async () => {
      const other = at('other.key');
      await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', other]);
      return other;
    },
  };
}
