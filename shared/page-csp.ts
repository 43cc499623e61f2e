// The Content-Security-Policy of the pages in renderer/, for the servers that send them as a
// header: the control panel's loopback server (server/control/ws-server.ts), the desktop app's
// app:// protocol (electron/app-protocol.ts) and the viewer server (server/http/viewer-page.ts).
// The window's <meta> tags, which HTML cannot import, are held to them by test/page-csp.test.ts.
// (The key page's policy names its inlined sheet's hash, so server/http/viewer-page.ts makes it.)

/** A policy's directives and their sources, in the order the header lists them. */
export type Policy = Readonly<Record<string, readonly string[]>>;

/** What every page may do: run and style itself from its own origin, show its own and blob/data pictures, talk to its own server; nothing from elsewhere, no inline script, no plugins. */
const PAGE: Policy = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'blob:', 'data:'],
  'connect-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
};

/** The window's pages (app, capture): a page, and its workers (the capture worker); framed by nothing. */
export const PANEL_POLICY: Policy = { ...PAGE, 'worker-src': ["'self'"], 'frame-ancestors': ["'none'"] };

/** The window's pages as `pushcam serve --ui` serves them to a browser. */
export const PANEL_CSP = header(PANEL_POLICY);

/**
 * The window's pages in the desktop app (app://): the panel's policy, with media-src for the
 * camera's stream and font-src, and frame-src and object-src named outright.
 */
export const APP_CSP = header({
  ...PANEL_POLICY,
  'media-src': ["'self'", 'blob:', 'mediastream:'],
  'font-src': ["'self'"],
  'frame-src': ["'none'"],
  'object-src': ["'none'"],
});

/** The viewer page: no workers; pages of its own origin may frame it. */
export const VIEWER_CSP = header({ ...PAGE, 'frame-ancestors': ["'self'"] });

/** `name source source; name ...`, as the header says it. */
function header(policy: Policy): string {
  return Object.entries(policy)
    .map(([name, sources]) => [name, ...sources].join(' '))
    .join('; ');
}
