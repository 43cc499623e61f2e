// The one control contract between a PushCam window and the core. Everything the window can do
// is a call here, everything it is told is an event here. Two thin adapters carry it: Electron IPC
// (electron/ipc.ts + electron/preload.ts) and a loopback WebSocket (server/control/ws-server.ts).
// This file is shared by the core, the preload and the renderer: types and constants only.

import type { PreviewFrame } from './frame-format.js';
import type { Settings } from './settings-table.js';
import type { SourceStatus, ViewerInfo } from './status.js';

export { type Settings, SOURCE_SETTINGS } from './settings-table.js';

export type BroadcastState = 'stopped' | 'starting' | 'broadcasting' | 'error';

/** Where the picture comes from: a camera (captured by the window or a headless page), the test pattern, an image file or a folder. */
export type SourceKind = 'camera' | 'pattern' | 'file' | 'dir';

export interface ViewerRow extends ViewerInfo {
  /** "Chrome on Linux", "ffmpeg", ... */
  client: string;
  /** The name of the guest link it came through; null: the main key. */
  guestName: string | null;
  /** Frames per second sent to it over the last few seconds. */
  fps: number;
}

export interface ControlState {
  broadcast: {
    state: BroadcastState;
    /** Listening port while broadcasting. */
    port: number | null;
    error?: string;
    /** With a busy port: a free one to use instead. */
    suggestedPort?: number;
  };
  settings: Settings;
  share: {
    /** The links to share (with the key), while broadcasting: one per LAN address, or this computer's alone. */
    urls: string[];
    /** The link for a viewer on this computer, while broadcasting; '' otherwise. */
    localUrl: string;
    /** The link by the camera's .local name (one of `urls`), once the LAN has heard it announced; '' otherwise. */
    nameUrl: string;
    /** The links are https:// (a certificate is set). */
    secure: boolean;
    /** Who the links reach: the network, or this computer only (lanAccess off, or --host 127.0.0.1). */
    reach: 'network' | 'local';
    /** The address --host gave: it decides who can connect, not lanAccess. null without --host. */
    host: string | null;
    /** The first URL as a QR code, an SVG document; '' when it reaches this computer only (no phone can open it). */
    qrSvg: string;
    key: string;
    /** Where the key is kept: "in /home/u/.config/pushcam/access-key", or that --key set it for this run. */
    keyKept: string;
    /** false when --key set the key for this run: newKey is refused. */
    canRenewKey: boolean;
  };
  source: SourceStatus & { kind: SourceKind };
  /** What the camera last reported (its real size may differ from the one asked); null for other sources. */
  camera: CameraReport | null;
  /** What the capture side should be doing now (also sent as the `capture` event on change). */
  capture: CaptureRequest;
  /** The desktop app: its window captures the camera, and startOnLaunch applies. false for `pushcam serve --ui`. */
  captureInWindow: boolean;
  viewers: ViewerRow[];
  guests: GuestLinkRow[];
  /** Things the user should know once, e.g. "your settings file was damaged". */
  notices: string[];
}

/** A link the broadcaster gave one guest: its own key, a name, maybe an end. */
export interface GuestLink {
  /** Names the link in the window and in control calls; not a secret. */
  id: string;
  name: string;
  createdAt: number;
  /** When its key stops working, ms since the epoch; null: until it is revoked. */
  expiresAt: number | null;
  /** Only one viewer (one page) may watch through it at a time. */
  oneViewer: boolean;
  /** When a viewer last came or went through it; null: never used. */
  lastSeen: number | null;
}

/** What a new link is made of (the control call's argument, checked in server/control/calls.ts). */
export interface GuestLinkSpec {
  name: string;
  /** From now; null: it never expires. */
  expiresInMs: number | null;
  oneViewer: boolean;
}

/** A guest link as the window lists it (server/config/guest-links.ts keeps them). */
export interface GuestLinkRow extends GuestLink {
  expired: boolean;
  /** Viewers watching through it now. */
  viewers: number;
  /**
   * The link with its own key, while broadcasting; '' otherwise, and for a link made before
   * PushCam last started: only its key's hash is kept, so the link can no longer be shown.
   */
  url: string;
  /** `url` as a QR code (SVG), as for the main link: '' when it reaches this computer only. */
  qrSvg: string;
  /** false for a link made before PushCam last started (see `url`). */
  keyKnown: boolean;
}

/** The expiries the window offers for a guest link, in ms (null: never). */
export const GUEST_EXPIRIES: readonly { label: string; ms: number | null }[] = [
  { label: '1 hour', ms: 3_600_000 },
  { label: '1 day', ms: 86_400_000 },
  { label: '1 week', ms: 604_800_000 },
  { label: 'Never', ms: null },
];
/** The longest a guest link may last, and the shortest (scripts and tests may ask any in between). */
export const GUEST_EXPIRY_MS = { min: 1000, max: 366 * 86_400_000 } as const;

/** How often the core sends Stats; a client that hears nothing for a few of these has lost the core. */
export const STATS_INTERVAL_MS = 1000;

/** Sampled every STATS_INTERVAL_MS for the window's sparklines. */
export interface Stats {
  at: number;
  captureFps: number;
  encodeMs: number;
  outKBps: number;
}

/** What the capture side should do now; it captures only while `active`. */
export interface CaptureRequest {
  active: boolean;
  cameraId: string;
  cameraLabel: string;
  width: number;
  height: number;
  intervalMs: number;
  /** JPEG quality (1..100) the capture side encodes at when its frame channel carries JPEG. */
  jpegQuality: number;
}

/** What the capture side reports about the camera. */
export type CameraReport =
  | { state: 'capturing'; label: string; width: number; height: number }
  | { state: 'idle' }
  | { state: 'error'; fault: CameraFault; message: string };

export type CameraFault = 'denied' | 'busy' | 'missing' | 'unplugged' | 'other';

/** Calls from the window to the core. Every one answers with a result or a one-line error. */
export interface ControlCalls {
  getState(): ControlState;
  updateSettings(patch: Partial<Settings>): ControlState;
  start(): ControlState;
  stop(): ControlState;
  kick(viewerId: number): ControlState;
  newKey(): ControlState;
  /** A new guest link with its own key; answers it, with its URL and QR code while broadcasting. */
  createGuestLink(spec: GuestLinkSpec): GuestLinkRow;
  listGuestLinks(): GuestLinkRow[];
  /** Ends the link's viewers at once (they are told the broadcaster disconnected them) and its key stops working. */
  revokeGuestLink(id: string): ControlState;
  /** The window wants preview frames (while it is visible) or not. */
  setPreview(on: boolean): void;
  reportCamera(report: CameraReport): void;
}

export interface ControlEvents {
  state: ControlState;
  stats: Stats;
  capture: CaptureRequest;
  preview: PreviewFrame;
}

/**
 * The window's link to the core. Over the loopback WebSocket it is 'lost' when PushCam quits or
 * stops answering, and 'connected' again once it answers at the same address; calls fail
 * meanwhile. Over Electron IPC the core is the app itself: the event never comes.
 */
export type Connection = 'lost' | 'connected';

/** What a client hears: the core's events, and its own link to the core. */
export interface ClientEvents extends ControlEvents {
  connection: Connection;
}

export type CallName = keyof ControlCalls;

/** The core's side: each call may answer now or later. Its arguments arrive checked (server/control/calls.ts). */
export type ControlHandlers = {
  [N in CallName]: (...args: Parameters<ControlCalls[N]>) => ReturnType<ControlCalls[N]> | Promise<ReturnType<ControlCalls[N]>>;
};
/** The calls a window answers for itself: its own preview, so that a hidden panel tab turns off its preview, not another's. */
export type WindowCallName = 'setPreview';
export type WindowHandlers = Pick<ControlHandlers, WindowCallName>;
/** The calls the core answers: all but the window's own. */
export type CoreHandlers = Omit<ControlHandlers, WindowCallName>;
export type EventName = keyof ControlEvents;

/** Every call once: a record, so that the compiler refuses a missing or an extra name. */
const CALLS: { [N in CallName]: true } = {
  getState: true,
  updateSettings: true,
  start: true,
  stop: true,
  kick: true,
  newKey: true,
  createGuestLink: true,
  listGuestLinks: true,
  revokeGuestLink: true,
  setPreview: true,
  reportCamera: true,
};
/** The list both adapters register, so neither can miss or add a call. */
export const CALL_NAMES = Object.keys(CALLS) as readonly CallName[];
/** The events the core emits, which both adapters relay; the preview each adapter sends from its window's own hub consumer. */
export type CoreEvents = Omit<ControlEvents, 'preview'>;
export const CORE_EVENT_NAMES: readonly (keyof CoreEvents)[] = ['state', 'stats', 'capture'];
export const EVENT_NAMES: readonly EventName[] = [...CORE_EVENT_NAMES, 'preview'];

/** Electron IPC channel names, derived from the lists above. */
export const ipcChannel = {
  call: (name: CallName): string => `pushcam:call:${name}`,
  event: 'pushcam:event',
  /** The MessagePort camera frames travel on (main -> renderer, once). */
  framePort: 'pushcam:frame-port',
} as const;

/**
 * What every Electron IPC call handler answers (electron/ipc.ts to electron/ipc-client.ts). Electron would wrap a thrown error's message in "Error
 * invoking remote method ..."; a reply object keeps the core's one-line reason as it is.
 */
export type CallReply = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Where the capture worker sends camera frames: a MessagePort (Electron, from MessageChannelMain)
 * or a loopback WebSocket URL with its token. Either can be handed to a Worker. Both carry the
 * frame format of ./frame-format.ts, one frame in flight. The capture worker sends JPEG on the
 * WebSocket, because moving raw 720p frames over it takes 120-230 ms each; raw pixels on the port.
 */
export type FrameChannel = { kind: 'port'; port: InstanceType<typeof MessagePort> } | { kind: 'websocket'; url: string };

/** The window's side of the contract, whichever adapter carries it. */
export interface ControlClient {
  call<N extends CallName>(name: N, ...args: Parameters<ControlCalls[N]>): Promise<ReturnType<ControlCalls[N]>>;
  on<E extends keyof ClientEvents>(event: E, listener: (data: ClientEvents[E]) => void): () => void;
  openFrameChannel(): Promise<FrameChannel>;
}
