import type { Settings } from '../../server/control/contract.js';
import type { Rotation } from '../../server/types.js';
import { byTestId, setText } from './dom.js';
import { type ApplySettings, type LiveField, liveField, setValue } from './field.js';
import { formatFps } from './format.js';

// The settings form: static controls in index.html, each bound to its setting(s) in the core.

type NumberKey = 'intervalMs' | 'quality' | 'port' | 'maxClients';
type SwitchKey = 'mirror' | 'timestamp' | 'startOnLaunch';
type TextKey = 'name' | 'text';

function errorFor(testId: string): HTMLElement {
  return byTestId(`${testId}-error`, HTMLElement);
}

function numberField(testId: string, key: NumberKey, apply: ApplySettings): LiveField {
  const input = byTestId(testId, HTMLInputElement);
  return liveField(
    {
      controls: [input],
      error: errorFor(testId),
      typed: true,
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

/** The frame rate beside the interval, in step with what is typed before it is applied. */
function fpsLabel(): () => void {
  const interval = byTestId('interval', HTMLInputElement);
  const fps = byTestId('fps', HTMLElement);
  const update = (): void => setText(fps, formatFps(interval.valueAsNumber));
  interval.addEventListener('input', update);
  return update;
}

function qualityLabel(): () => void {
  const quality = byTestId('quality', HTMLInputElement);
  const output = byTestId('quality-value', HTMLOutputElement);
  const update = (): void => setText(output, quality.value);
  quality.addEventListener('input', update);
  return update;
}

/** Binds every settings control; returns what shows a new state in them. */
export function bindSettings(apply: ApplySettings): (settings: Settings) => void {
  const fields = [
    textField('name', 'name', apply),
    resolutionField(apply),
    numberField('interval', 'intervalMs', apply),
    numberField('quality', 'quality', apply),
    switchField('mirror', 'mirror', apply),
    rotateField(apply),
    switchField('timestamp', 'timestamp', apply),
    textField('text', 'text', apply),
    numberField('port', 'port', apply),
    accessField(apply),
    numberField('max-clients', 'maxClients', apply),
    switchField('start-on-launch', 'startOnLaunch', apply),
  ];
  const labels = [fpsLabel(), qualityLabel()];
  return (settings) => {
    for (const field of fields) field.show(settings);
    for (const update of labels) update();
  };
}
