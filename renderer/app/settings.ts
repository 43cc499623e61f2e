import { type ControlState, SOURCE_SETTINGS, STATS_INTERVAL_MS, type Stats } from '../../shared/contract.js';
import { type Rotation, SETTING_RANGES, SETTINGS_TABLE } from '../../shared/settings-table.js';
import { byTestId, setText } from './dom.js';
import { type ApplySettings, type LiveField, liveField, setValue } from './field.js';
import { formatFps, formatRate } from './format.js';

// The settings form: static controls in index.html, each bound to its setting(s) in the core, and
// shown only where they work: a file has its own size, only the desktop app starts with the
// computer, and --host decides who can connect when it is given. A field's limits (min, max,
// maxlength) are its setting's, from the settings table.

type NumberKey = 'intervalMs' | 'quality' | 'port' | 'maxViewers';
type SwitchKey = 'mirror' | 'timestamp' | 'startOnLaunch' | 'mdns';
type TextKey = 'name' | 'text';

function errorFor(testId: string): HTMLElement {
  return byTestId(`${testId}-error`, HTMLElement);
}

/** `typed`: applied after a pause in typing; without it, when the field is left (a port: each change drops the viewers). */
function numberField(testId: string, key: NumberKey, apply: ApplySettings, typed = true): LiveField {
  const input = byTestId(testId, HTMLInputElement);
  [input.min, input.max] = SETTING_RANGES[key].map(String);
  return liveField(
    {
      controls: [input],
      error: errorFor(testId),
      typed,
      // An empty or garbled number goes to the core as it is, which says what it must be.
      read: () => ({ [key]: input.valueAsNumber }),
      write: (settings) => setValue(input, String(settings[key])),
    },
    apply,
  );
}

function switchField(testId: string, key: SwitchKey, apply: ApplySettings): LiveField {
  const input = byTestId(testId, HTMLInputElement);
  return liveField(
    {
      controls: [input],
      error: errorFor(testId),
      read: () => ({ [key]: input.checked }),
      write: (settings) => {
        input.checked = settings[key];
      },
    },
    apply,
  );
}

function textField(testId: string, key: TextKey, apply: ApplySettings): LiveField {
  const input = byTestId(testId, HTMLInputElement);
  input.maxLength = SETTINGS_TABLE[key].max;
  return liveField(
    {
      controls: [input],
      error: errorFor(testId),
      typed: true,
      read: () => ({ [key]: input.value }),
      write: (settings) => setValue(input, settings[key]),
    },
    apply,
  );
}

/** The certificate and its key, one change: the core refuses a pair that does not load, and says which file is wrong. */
function tlsField(apply: ApplySettings): LiveField {
  const cert = byTestId('tls-cert', HTMLInputElement);
  const key = byTestId('tls-key', HTMLInputElement);
  return liveField(
    {
      controls: [cert, key],
      error: errorFor('tls'),
      read: () => ({ tlsCert: cert.value.trim(), tlsKey: key.value.trim() }),
      write: (settings) => {
        setValue(cert, settings.tlsCert);
        setValue(key, settings.tlsKey);
      },
    },
    apply,
  );
}

function rotateField(apply: ApplySettings): LiveField {
  const select = byTestId('rotate', HTMLSelectElement);
  return liveField(
    {
      controls: [select],
      error: errorFor('rotate'),
      read: () => ({ rotate: Number(select.value) as Rotation }),
      write: (settings) => setValue(select, String(settings.rotate)),
    },
    apply,
  );
}

/** The presets, plus the current size when it is none of them (set on the command line or by hand). */
function resolutionField(apply: ApplySettings): LiveField {
  const select = byTestId('resolution', HTMLSelectElement);
  return liveField(
    {
      controls: [select],
      error: errorFor('resolution'),
      read: () => {
        const [width, height] = select.value.split('x').map(Number);
        return { width, height };
      },
      write: (settings) => {
        const value = `${settings.width}x${settings.height}`;
        select.querySelector('option[data-custom]')?.remove();
        if (![...select.options].some((option) => option.value === value)) {
          const custom = new Option(`${settings.width} × ${settings.height}`, value);
          custom.dataset.custom = '';
          select.add(custom);
        }
        setValue(select, value);
      },
    },
    apply,
  );
}

function accessField(apply: ApplySettings): LiveField {
  const lan = byTestId('access-lan', HTMLInputElement);
  const local = byTestId('access-local', HTMLInputElement);
  return liveField(
    {
      controls: [lan, local],
      error: errorFor('access'),
      read: () => ({ lanAccess: lan.checked }),
      write: (settings) => {
        lan.checked = settings.lanAccess;
        local.checked = !settings.lanAccess;
      },
    },
    apply,
  );
}

/**
 * The rate beside the interval, in step with what is typed before it is applied, and the rate the
 * source really gives while it runs, when that is another (a camera slower than asked).
 */
function rateHint(): { show(state: ControlState): void; stats(stats: Stats): void } {
  const interval = byTestId('interval', HTMLInputElement);
  const hint = byTestId('fps', HTMLElement);
  const label = byTestId('interval-label', HTMLElement);
  let kind: ControlState['source']['kind'] = 'camera';
  let measured = 0;
  let applied = 0;
  // Samples that began before the interval changed measure the old one.
  let settledAt = 0;
  const changing = (): void => {
    measured = 0;
    settledAt = Date.now() + 2 * STATS_INTERVAL_MS;
  };
  const update = (): void => {
    const files = kind === 'file' || kind === 'dir';
    // A file is looked at this often; it gives a new picture only when another program writes one.
    setText(hint, files ? formatFps(interval.valueAsNumber).replace(/ fps$/, ' checks a second') : formatRate(interval.valueAsNumber, measured));
  };
  interval.addEventListener('input', () => {
    changing();
    update();
  });
  return {
    show(state) {
      kind = state.source.kind;
      if (state.settings.intervalMs !== applied) changing();
      applied = state.settings.intervalMs;
      if (state.source.state !== 'running') measured = 0;
      setText(label, kind === 'file' ? 'Check the file every' : kind === 'dir' ? 'Check the folder every' : 'Frame interval');
      update();
    },
    stats(stats) {
      if (stats.at < settledAt) return;
      measured = stats.captureFps;
      update();
    },
  };
}

/** Beside the resolution: the size the camera really gives, when it is not the one asked. */
function deliveredHint(): (state: ControlState) => void {
  const hint = byTestId('resolution-delivered', HTMLElement);
  return ({ camera, settings }) => {
    const other = camera?.state === 'capturing' && camera.width > 0 && (camera.width !== settings.width || camera.height !== settings.height);
    hint.hidden = !other;
    if (other) setText(hint, `Asked ${settings.width} × ${settings.height}; the camera gives ${camera.width} × ${camera.height}.`);
  };
}

/** Under the port while it is being changed during a broadcast: a new port restarts it, which drops everyone watching. */
function portWarning(): (state: ControlState) => void {
  const warning = byTestId('port-warning', HTMLElement);
  const input = byTestId('port', HTMLInputElement);
  let broadcasting = false;
  const place = (): void => {
    warning.hidden = !(broadcasting && document.activeElement === input);
  };
  input.addEventListener('focus', place);
  input.addEventListener('blur', place);
  return ({ broadcast, viewers }) => {
    broadcasting = broadcast.state === 'broadcasting';
    place();
    const n = viewers.length;
    const dropped = n === 0 ? '' : n === 1 ? ': the viewer watching now is disconnected' : `: the ${n} viewers watching now are disconnected`;
    setText(warning, `A new port restarts the broadcast${dropped}, and the links you shared stop working.`);
  };
}

/** With --host, that address decides who can connect; the switch would do nothing. */
function accessHint(): (state: ControlState) => void {
  const hint = byTestId('access-hint', HTMLElement);
  const radios = [byTestId('access-lan', HTMLInputElement), byTestId('access-local', HTMLInputElement)];
  return ({ share }) => {
    for (const radio of radios) radio.disabled = share.host !== null;
    hint.hidden = share.host === null;
    setText(hint, `Set by --host ${share.host ?? ''}: viewers connect to that address only.`);
  };
}

/** Fields that mean nothing in this mode are left out. */
function modeFields(): (state: ControlState) => void {
  const resolution = byTestId('resolution-field', HTMLElement);
  const startOnLaunch = byTestId('start-on-launch-field', HTMLElement);
  return (state) => {
    resolution.hidden = !SOURCE_SETTINGS[state.source.kind].includes('width');
    // `pushcam serve` broadcasts from its start anyway; only the desktop app starts with the computer.
    startOnLaunch.hidden = !state.captureInWindow;
  };
}

function qualityLabel(): () => void {
  const quality = byTestId('quality', HTMLInputElement);
  const output = byTestId('quality-value', HTMLOutputElement);
  const update = (): void => setText(output, quality.value);
  quality.addEventListener('input', update);
  return update;
}

/** Binds every settings control; returns what shows a new state and new stats in them. */
export function bindSettings(apply: ApplySettings): { show(state: ControlState): void; stats(stats: Stats): void } {
  const fields = [
    textField('name', 'name', apply),
    resolutionField(apply),
    numberField('interval', 'intervalMs', apply),
    numberField('quality', 'quality', apply),
    switchField('mirror', 'mirror', apply),
    rotateField(apply),
    switchField('timestamp', 'timestamp', apply),
    textField('text', 'text', apply),
    numberField('port', 'port', apply, false),
    accessField(apply),
    numberField('max-viewers', 'maxViewers', apply),
    switchField('mdns', 'mdns', apply),
    tlsField(apply),
    switchField('start-on-launch', 'startOnLaunch', apply),
  ];
  const quality = qualityLabel();
  const rate = rateHint();
  const parts = [deliveredHint(), portWarning(), accessHint(), modeFields()];
  return {
    show(state) {
      for (const field of fields) field.show(state.settings);
      quality();
      rate.show(state);
      for (const show of parts) show(state);
    },
    stats: rate.stats,
  };
}
