import type { ControlState, Settings } from '../../shared/contract.js';
import { errorMessage, setText } from './dom.js';

/** Applies a settings change in the core; rejects with the core's one-line reason. */
export type ApplySettings = (patch: Partial<Settings>) => Promise<ControlState>;

type Control = HTMLInputElement | HTMLSelectElement;

export interface FieldSpec {
  /** The element(s) the user edits; several for a radio group. */
  controls: Control[];
  /** Where the core's reason for refusing a value goes. */
  error: HTMLElement;
  /** The change the controls ask for now. */
  read(): Partial<Settings>;
  /** Shows the core's settings in the controls. */
  write(settings: Settings): void;
  /** Text and number inputs wait for a pause in typing; the rest apply at once. */
  typed?: boolean;
}

/** How long typing must pause before a text or number field is applied. */
const TYPING_PAUSE_MS = 500;

export interface LiveField {
  /** Shows the core's settings, unless the user has an edit of this field in progress. */
  show(settings: Settings): void;
}

/**
 * A settings field applied live: each edit goes to the core, its refusal is shown next to the
 * field, and the core's state never overwrites what the user is typing or has just been refused.
 */
export function liveField(spec: FieldSpec, apply: ApplySettings): LiveField {
  let editing = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Counts the user's edits: an answer to an older edit must not overwrite a newer one.
  let edits = 0;
  // What the core has for this field, as read() would put it: an edit back to it sends nothing.
  let applied = '';

  const settle = (settings: Settings): void => {
    editing = false;
    showError(spec, '');
    spec.write(settings);
    applied = JSON.stringify(spec.read());
  };

  const send = async (): Promise<void> => {
    clearTimeout(timer);
    const patch = spec.read();
    const edit = edits;
    if (JSON.stringify(patch) === applied) {
      editing = false;
      showError(spec, '');
      return;
    }
    try {
      const state = await apply(patch);
      if (edit === edits) settle(state.settings);
    } catch (err) {
      if (edit === edits) showError(spec, reasonOf(err));
    }
  };

  for (const control of spec.controls) {
    control.addEventListener('input', () => {
      editing = true;
      edits++;
      clearTimeout(timer);
      if (spec.typed) timer = setTimeout(() => void send(), TYPING_PAUSE_MS);
    });
    control.addEventListener('change', () => void send());
  }

  return {
    show(settings) {
      if (!editing) settle(settings);
    },
  };
}

function showError(spec: FieldSpec, reason: string): void {
  setText(spec.error, reason);
  spec.error.hidden = reason === '';
  for (const control of spec.controls) {
    if (reason) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
  }
}

/** "intervalMs must be a whole number from 10 to 3600000" reads, next to the field, as "Must be a whole number from 10 to 3600000". */
function reasonOf(err: unknown): string {
  const message = errorMessage(err).replace(/^[a-zA-Z]+ (?=must )/, '');
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/** Sets an input's value only when it differs, so the caret of a focused input stays put. */
export function setValue(control: Control, value: string): void {
  if (control.value !== value) control.value = value;
}
