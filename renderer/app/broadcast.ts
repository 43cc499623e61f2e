import type { BroadcastState, ControlClient, ControlState } from '../../shared/contract.js';
import { byTestId, errorMessage, setText } from './dom.js';
import type { ApplySettings } from './field.js';

// The start/stop button and the status line under it: what the broadcast is doing, why it is
// not, and what the camera is doing when it is in trouble.

type Tone = 'live' | 'idle' | 'busy' | 'error';

interface StatusLine {
  tone: Tone;
  text: string;
}

export function bindBroadcast(client: ControlClient, apply: ApplySettings): (state: ControlState) => void {
  const button = byTestId('start-stop', HTMLButtonElement);
  const status = byTestId('status', HTMLElement);
  const main = byTestId('status-text', HTMLElement);
  const camera = byTestId('camera-status', HTMLElement);
  const usePort = byTestId('use-port', HTMLButtonElement);
  const onAir = byTestId('on-air', HTMLElement);
  let state: ControlState | null = null;
  // A call that failed outright (lost connection); cleared by the next state the core sends.
  let callError = '';

  const render = (next: ControlState): void => {
    const { broadcast } = next;
    const line = callError ? { tone: 'error' as const, text: callError } : statusLine(next);
    status.dataset.state = broadcast.state;
    status.dataset.tone = line.tone;
    setText(main, line.text);
    setText(camera, cameraLine(next));
    camera.hidden = camera.textContent === '';
    usePort.hidden = !(broadcast.state === 'error' && broadcast.suggestedPort);
    setText(usePort, `Use port ${broadcast.suggestedPort ?? ''}`);
    renderButton(button, onAir, broadcast.state);
  };

  const show = (next: ControlState): void => {
    state = next;
    callError = '';
    render(next);
  };
  // The answer is shown too: a call that changes nothing (start while starting) sends no event.
  const run = (action: () => Promise<ControlState>): void => {
    button.disabled = true;
    action().then(show, (err: unknown) => {
      callError = errorMessage(err);
      if (state) render(state);
      button.disabled = false;
    });
  };
  button.addEventListener('click', () => run(() => client.call(state?.broadcast.state === 'broadcasting' ? 'stop' : 'start')));
  usePort.addEventListener('click', () => {
    const port = state?.broadcast.suggestedPort;
    if (!port) return;
    run(async () => {
      await apply({ port });
      return client.call('start');
    });
  });

  return show;
}

function renderButton(button: HTMLButtonElement, onAir: HTMLElement, state: BroadcastState): void {
  const live = state === 'broadcasting';
  onAir.dataset.live = String(live);
  setText(onAir, live ? 'Live' : 'Off air');
  button.dataset.state = state;
  button.disabled = state === 'starting';
  setText(button, live ? 'Stop broadcasting' : state === 'starting' ? 'Starting…' : 'Start broadcasting');
}

function statusLine({ broadcast, settings }: ControlState): StatusLine {
  switch (broadcast.state) {
    case 'broadcasting':
      return { tone: 'live', text: `Broadcasting on port ${broadcast.port ?? ''} ${settings.lanAccess ? 'to your network' : 'to this computer only'}` };
    case 'starting':
      return { tone: 'busy', text: 'Starting…' };
    case 'error':
      return { tone: 'error', text: broadcast.error ?? 'Broadcasting failed.' };
    case 'stopped':
      return { tone: 'idle', text: 'Not broadcasting' };
  }
}

function cameraLine({ source }: ControlState): string {
  if (source.state === 'error') return `Camera problem: ${source.error ?? 'the camera failed'}`;
  if (source.state === 'waiting') return 'Waiting for the camera…';
  return '';
}
