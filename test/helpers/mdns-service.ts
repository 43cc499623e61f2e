import type { Settings } from '../../shared/contract.js';
import { ControlService } from '../../server/control/service.js';

// PushCam's core as the desktop app runs it (ControlService, LAN access, mDNS on), in a process of
// its own inside the test's network namespace, driven over the IPC channel: each message is a
// call, answered with the share card's links; `nameUrl` changes are sent as they happen. Its
// config folder (argv[2]) is the test's, which removes it.

type Call = { call: 'start' | 'stop' | 'close' } | { call: 'update'; patch: Partial<Settings> };

delete process.env.PUSHCAM_NO_MDNS;
const send = (message: unknown): void => void process.send?.(message);
const dir = process.argv[2];
const service = await ControlService.create({
  source: { kind: 'pattern' },
  settingsFile: null,
  overrides: { port: 0, lanAccess: true, name: 'Kitchen Cam', width: 160, height: 120 },
  configDir: dir,
  captureInWindow: false,
  log: (line) => send({ log: line }),
});
let nameUrl = '';
service.on('state', (s) => {
  if (s.share.nameUrl === nameUrl) return;
  nameUrl = s.share.nameUrl;
  send({ nameUrl });
});
const answer = (): void => {
  const { share, broadcast } = service.getState();
  send({ port: broadcast.port, nameUrl: share.nameUrl, urls: share.urls });
};
process.on('message', (m: Call) => {
  void (async () => {
    if (m.call === 'start') await service.start();
    if (m.call === 'stop') await service.stop();
    if (m.call === 'update') await service.updateSettings(m.patch);
    if (m.call === 'close') {
      await service.close();
      send({ closed: true });
      process.disconnect();
      return;
    }
    answer();
  })().catch((err: unknown) => send({ error: (err as Error).message }));
});
send({ ready: true });
