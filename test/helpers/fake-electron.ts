// A stand-in for the `electron` module, for running the built main process (dist/electron/main.cjs)
// under plain Node where the Electron runtime is missing. It records what the app asks of Electron
// and lets a test play the user: app ready, window closed, tray menu clicked, app quit.
import { EventEmitter } from 'node:events';
import { Module, createRequire } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

export interface MenuItem {
  label?: string;
  type?: string;
  enabled?: boolean;
  click?: () => void;
}

/** An Electron-style event: `preventDefault()` is remembered. */
function electronEvent<T extends object>(fields: T = {} as T): T & { defaultPrevented: boolean; preventDefault(): void } {
  const event = { ...fields, defaultPrevented: false, preventDefault: () => void (event.defaultPrevented = true) };
  return event;
}

export class FakeElectron {
  readonly userData: string;
  readonly calls: string[] = [];
  readonly schemes: { scheme: string; privileges: Record<string, boolean> }[] = [];
  readonly protocolHandlers = new Map<string, (request: Request) => Promise<Response>>();
  readonly ipcHandlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
  readonly windows: FakeWindow[] = [];
  readonly trays: FakeTray[] = [];
  readonly notifications: { title: string; body: string }[] = [];
  readonly blockers = new Set<number>();
  readonly app: FakeApp;
  hasLock = true;
  nextBlocker = 1;
  private readyNow: () => void = () => undefined;
  private readonly ready = new Promise<void>((resolve) => (this.readyNow = resolve));

  constructor(userData: string) {
    this.userData = userData;
    this.app = new FakeApp(this);
  }

  makeReady(): void {
    this.readyNow();
  }

  whenReady(): Promise<void> {
    return this.ready;
  }

  /**
   * Loads dist/electron/main.cjs afresh with this fake as `electron`. Its own dependencies stay
   * cached between loads, as they would in one process.
   */
  loadMain(mainPath: string): void {
    const require = createRequire(mainPath);
    const electronPath = require.resolve('electron');
    const stand = new Module(electronPath);
    stand.exports = electronModule(this);
    stand.loaded = true;
    require.cache[electronPath] = stand;
    delete require.cache[mainPath];
    require(mainPath);
  }
}

/** What `require('electron')` gives the main process. */
function electronModule(fake: FakeElectron): Record<string, unknown> {
  return {
    app: fake.app,
    protocol: {
      registerSchemesAsPrivileged: (schemes: FakeElectron['schemes']) => fake.schemes.push(...schemes),
      handle: (scheme: string, handler: (request: Request) => Promise<Response>) => fake.protocolHandlers.set(scheme, handler),
    },
    ipcMain: {
      handle: (channel: string, handler: (event: unknown, ...args: unknown[]) => unknown) => fake.ipcHandlers.set(channel, handler),
      removeHandler: (channel: string) => fake.ipcHandlers.delete(channel),
    },
    BrowserWindow: class extends FakeWindow {
      constructor(options: Record<string, unknown>) {
        super(options, fake.windows.length + 1);
        fake.windows.push(this);
      }
    },
    MessageChannelMain: MessageChannel,
    nativeTheme: Object.assign(new EventEmitter(), { shouldUseDarkColors: false }),
    Notification: class {
      static isSupported = (): boolean => true;
      constructor(private readonly options: { title: string; body: string }) {}
      show(): void {
        fake.notifications.push(this.options);
      }
    },
    powerSaveBlocker: {
      start: (type: string) => {
        fake.calls.push(`powerSaveBlocker.start ${type}`);
        const id = fake.nextBlocker++;
        fake.blockers.add(id);
        return id;
      },
      stop: (id: number) => fake.blockers.delete(id),
    },
    shell: { openExternal: async (url: string) => void fake.calls.push(`openExternal ${url}`) },
    systemPreferences: { askForMediaAccess: async () => true },
    dialog: { showErrorBox: (title: string, message: string) => fake.calls.push(`error box: ${title}: ${message}`) },
    Tray: class extends FakeTray {
      constructor() {
        super();
        fake.trays.push(this);
      }
    },
    Menu: { buildFromTemplate: (items: MenuItem[]) => items },
    nativeImage: { createFromPath: (path: string) => ({ path }) },
  };
}

class FakeApp extends EventEmitter {
  exitCode: number | null = null;
  quits = 0;
  constructor(private readonly fake: FakeElectron) {
    super();
  }
  requestSingleInstanceLock(): boolean {
    return this.fake.hasLock;
  }
  whenReady(): Promise<void> {
    return this.fake.whenReady();
  }
  getPath(name: string): string {
    if (name !== 'userData') throw new Error(`unexpected app.getPath(${name})`);
    return this.fake.userData;
  }
  /** Electron's order: before-quit, then (windows close) will-quit, which may hold the quit. */
  quit(): void {
    this.quits++;
    this.emit('before-quit', electronEvent());
    const event = electronEvent();
    this.emit('will-quit', event);
    if (!event.defaultPrevented) this.emit('quit');
  }
  readonly exit = (code: number): void => {
    this.exitCode = code;
  };
}

export class FakeWindow extends EventEmitter {
  visible = false;
  destroyed = false;
  loadedUrl = '';
  background: unknown;
  readonly webContents: FakeWebContents;
  constructor(
    readonly options: Record<string, unknown>,
    id: number,
  ) {
    super();
    this.webContents = new FakeWebContents(id);
  }
  async loadURL(url: string): Promise<void> {
    this.loadedUrl = url;
    this.webContents.mainFrame.url = url;
  }
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  isMinimized(): boolean {
    return false;
  }
  restore(): void {}
  focus(): void {}
  isDestroyed(): boolean {
    return this.destroyed;
  }
  setBackgroundColor(color: string): void {
    this.background = color;
  }
  /** The user closes the window: 'close' may be prevented, else it is gone. */
  userCloses(): boolean {
    const event = electronEvent();
    this.emit('close', event);
    if (event.defaultPrevented) return false;
    this.destroyed = true;
    this.emit('closed');
    return true;
  }
}

class FakeWebContents extends EventEmitter {
  readonly mainFrame = { url: '', parent: null };
  readonly sent: unknown[][] = [];
  windowOpenHandler: ((details: { url: string }) => { action: string }) | undefined;
  readonly session = {
    setPermissionRequestHandler: (handler: unknown) => void (this.permissionRequestHandler = handler),
    setPermissionCheckHandler: (handler: unknown) => void (this.permissionCheckHandler = handler),
  };
  permissionRequestHandler: unknown;
  permissionCheckHandler: unknown;
  constructor(readonly id: number) {
    super();
  }
  setWindowOpenHandler(handler: FakeWebContents['windowOpenHandler']): void {
    this.windowOpenHandler = handler;
  }
  isDestroyed(): boolean {
    return false;
  }
  send(...args: unknown[]): void {
    this.sent.push(args);
  }
  postMessage(...args: unknown[]): void {
    this.sent.push(args);
  }
  /** An ipcRenderer.invoke from this window's page. */
  invoke(channel: string, handlers: Map<string, (event: unknown, ...args: unknown[]) => unknown>, ...args: unknown[]): unknown {
    const handler = handlers.get(channel);
    if (!handler) throw new Error(`no handler for ${channel}`);
    return handler({ sender: this, senderFrame: this.mainFrame }, ...args);
  }
}

export class FakeTray extends EventEmitter {
  image: unknown;
  tooltip = '';
  menu: MenuItem[] = [];
  destroyed = false;
  setImage(image: unknown): void {
    this.image = image;
  }
  setToolTip(text: string): void {
    this.tooltip = text;
  }
  setContextMenu(menu: MenuItem[]): void {
    this.menu = menu;
  }
  destroy(): void {
    this.destroyed = true;
  }
  /** Clicks the menu item with this label. */
  click(label: string): void {
    const item = this.menu.find((i) => i.label === label);
    if (!item?.click) throw new Error(`no "${label}" in the tray menu: ${this.menu.map((i) => i.label).join(', ')}`);
    item.click();
  }
}
