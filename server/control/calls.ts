// Every control call's arguments, checked in one place before any handler runs. Both adapters
// (electron/ipc.ts and server/control/ws-server.ts) hand what they received to callCore(), so a
// call reaches the core only with the shape and the sizes the contract promises, and anything
// else is answered with a one-line reason. The table is keyed by call name and typed from
// ControlCalls: the compiler refuses a call without its check, or a check without its call.

import { isGuestLinkId } from '../config/guest-links.js';
import {
  type CallName,
  type CameraFault,
  type CameraReport,
  type ControlCalls,
  type ControlHandlers,
  type CoreHandlers,
  GUEST_EXPIRY_MS,
  type GuestLinkSpec,
  type WindowCallName,
  type WindowHandlers,
} from '../../shared/contract.js';
import { MAX_FRAME } from '../../shared/frame-format.js';
import { validateSettingsPatch } from './settings.js';
import { checkSetting, SETTINGS_TABLE } from '../../shared/settings-table.js';
import { exactFields, plainObject, text, whole } from '../../shared/values.js';

/** One argument's check: the value as the handler may trust it, or a one-line error. */
type ArgCheck<T> = (value: unknown) => T;
/** A call's checks, one per parameter, in order. */
type ArgChecks<P extends unknown[]> = { [I in keyof P]: ArgCheck<P[I]> };

const CAMERA_FAULTS: readonly CameraFault[] = ['denied', 'busy', 'missing', 'unplugged', 'other'];
/** As long as a camera label may be in the settings. */
const MAX_LABEL = SETTINGS_TABLE.cameraLabel.max;
/** Browsers' error messages are a line; this leaves room for a long one without taking a page. */
const MAX_MESSAGE = 500;

const CALL_ARGS: { [N in CallName]: ArgChecks<Parameters<ControlCalls[N]>> } = {
  getState: [],
  updateSettings: [validateSettingsPatch],
  start: [],
  stop: [],
  kick: [viewerId],
  newKey: [],
  createGuestLink: [guestLinkSpec],
  listGuestLinks: [],
  revokeGuestLink: [guestLinkId],
  setPreview: [onOff],
  reportCamera: [cameraReport],
};

/** The call and its arguments as the contract has them; throws a one-line reason otherwise. */
function checkCall(name: unknown, args: unknown): { name: CallName; args: unknown[] } {
  if (typeof name !== 'string') throw new Error(`the call's name must be text, not ${name === null ? 'null' : typeof name}`);
  if (!Object.hasOwn(CALL_ARGS, name)) throw new Error(`unknown call "${name.slice(0, 64)}"`);
  const call = name as CallName;
  if (!Array.isArray(args)) throw new Error(`${call}: the arguments must be a list`);
  const checks = CALL_ARGS[call] as readonly ArgCheck<unknown>[];
  if (args.length !== checks.length) {
    const wanted = checks.length === 0 ? 'no arguments' : checks.length === 1 ? '1 argument' : `${checks.length} arguments`;
    throw new Error(`${call} takes ${wanted}, not ${args.length}`);
  }
  return { name: call, args: checks.map((check, i) => check(args[i])) };
}

const WINDOW_CALLS: { [N in WindowCallName]: true } = { setPreview: true };

/**
 * Checks a call from an adapter, then runs it on the window that made it (its own preview) or on
 * the core (the rest); resolves with its answer, or rejects with a one-line reason.
 */
export async function callCore(core: CoreHandlers, window: WindowHandlers, name: unknown, args: unknown): Promise<unknown> {
  try {
    const call = checkCall(name, args);
    const handlers = (Object.hasOwn(WINDOW_CALLS, call.name) ? window : core) as Partial<ControlHandlers>;
    const handler = handlers[call.name] as (...a: unknown[]) => unknown;
    return await handler.apply(handlers, call.args);
  } catch (err) {
    throw new Error(oneLine(err));
  }
}

/** The first line of an error's message: what an adapter answers. */
export function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n', 1)[0] || 'failed';
}

function viewerId(value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw new Error('viewerId must be a whole number');
  return value as number;
}

function onOff(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new Error('setPreview takes true or false');
  return value;
}

/** A camera report with exactly its fields, each in range: a new object, nothing inherited. */
function cameraReport(value: unknown): CameraReport {
  const report = plainObject(value, 'report');
  const fields = (...names: string[]): void => exactFields(report, 'report', names);
  switch (report.state) {
    case 'idle':
      fields('state');
      return { state: 'idle' };
    case 'capturing':
      fields('state', 'label', 'width', 'height');
      return {
        state: 'capturing',
        label: text(report.label, 'report.label', MAX_LABEL),
        // 0: the camera did not say.
        width: whole(report.width, 'report.width', 0, MAX_FRAME.width),
        height: whole(report.height, 'report.height', 0, MAX_FRAME.height),
      };
    case 'error':
      fields('state', 'fault', 'message');
      if (!CAMERA_FAULTS.includes(report.fault as CameraFault)) throw new Error(`report.fault must be one of ${CAMERA_FAULTS.join(', ')}`);
      return { state: 'error', fault: report.fault as CameraFault, message: text(report.message, 'report.message', MAX_MESSAGE) };
    default:
      throw new Error('report.state must be capturing, idle or error');
  }
}

/** A new guest link: a name as a camera's name may be (one line, not empty), an expiry or null, and the one-viewer switch. */
function guestLinkSpec(value: unknown): GuestLinkSpec {
  const spec = plainObject(value, 'guest link');
  exactFields(spec, 'guest link', ['name', 'expiresInMs', 'oneViewer']);
  const problem = checkSetting('name', spec.name);
  if (problem) throw new Error(`name ${problem}`);
  const name = (spec.name as string).trim();
  if (name === '') throw new Error('name must say who the link is for');
  const expiresInMs = spec.expiresInMs === null ? null : whole(spec.expiresInMs, 'expiresInMs', GUEST_EXPIRY_MS.min, GUEST_EXPIRY_MS.max);
  if (typeof spec.oneViewer !== 'boolean') throw new Error('oneViewer must be true or false');
  return { name, expiresInMs, oneViewer: spec.oneViewer };
}

function guestLinkId(value: unknown): string {
  if (!isGuestLinkId(value)) throw new Error("id must be a guest link's id (11 letters, digits, - or _)");
  return value;
}
