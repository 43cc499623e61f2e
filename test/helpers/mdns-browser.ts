import { Bonjour } from 'bonjour-service';

// A DNS-SD browser of another implementation than PushCam's (bonjour-service, over
// multicast-dns), run as its own process, like a phone on the LAN: one JSON line on stdout for
// each _http._tcp service that comes up or goes down. Run inside the test's network namespace.

const bonjour = new Bonjour();
const browser = bonjour.find({ type: 'http' });
const say = (event: 'up' | 'down', s: { name: string; host: string; port: number; addresses?: string[]; txt?: unknown }): void => {
  process.stdout.write(`${JSON.stringify({ event, name: s.name, host: s.host, port: s.port, addresses: s.addresses ?? [], txt: s.txt })}\n`);
};
browser.on('up', (s) => say('up', s));
browser.on('down', (s) => say('down', s));
// Asks again now and then, as browsers do, so a service announced between two looks is found too.
const again = setInterval(() => browser.update(), 1000);
process.on('SIGTERM', () => {
  clearInterval(again);
  bonjour.destroy();
  process.exit(0);
});
