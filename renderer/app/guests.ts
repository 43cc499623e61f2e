import { type ControlClient, type ControlState, GUEST_EXPIRIES, type GuestLinkRow } from '../../shared/contract.js';
import { SETTINGS_TABLE } from '../../shared/settings-table.js';
import { copyText } from './copy.js';
import { byTestId, el, errorMessage, setText } from './dom.js';
import { formatDuration, plural } from './format.js';

// The guest links card: "New guest link" (a name, an expiry, one viewer at a time), and per link
// its own address with a copy button, an invitation to copy, its QR code, what it is doing now and
// Revoke. A row is rebuilt only when the link itself changes; what it is doing is updated in place.

interface Row {
  li: HTMLLIElement;
  activity: HTMLElement;
  /** What the row was built from, so that a tick of the clock does not rebuild it (and lose a focused button). */
  built: string;
}

export function bindGuests(client: ControlClient): (state: ControlState) => void {
  bindNewGuestLink(client);
  const list = byTestId('guest-list', HTMLUListElement);
  const empty = byTestId('guests-empty', HTMLElement);
  const open = byTestId('guests-open', HTMLElement);
  const rows = new Map<string, Row>();
  return (state) => {
    const { guests } = state;
    empty.hidden = guests.length > 0;
    open.hidden = !state.settings.openAccess;
    for (const [id, row] of rows) {
      if (guests.some((g) => g.id === id)) continue;
      row.li.remove();
      rows.delete(id);
    }
    const now = Date.now();
    for (const link of guests) {
      const built = JSON.stringify({ ...link, viewers: 0, lastSeen: 0, name: state.settings.name });
      let row = rows.get(link.id);
      if (!row || row.built !== built) {
        const fresh = guestRow(client, link, state.settings.name);
        if (row) row.li.replaceWith(fresh.li);
        else list.append(fresh.li);
        row = { ...fresh, built };
        rows.set(link.id, row);
      }
      setText(row.activity, activity(link, now));
    }
  };
}

function guestRow(client: ControlClient, link: GuestLinkRow, cameraName: string): Omit<Row, 'built'> {
  const activityLine = el('span', { attrs: { 'data-testid': 'guest-activity' } });
  const head = el('div', { className: 'guest-head' }, [
    el('strong', { className: 'guest-name', text: link.name, attrs: { 'data-testid': 'guest-name' } }),
    el('span', { className: 'muted', text: lifetime(link), attrs: { 'data-testid': 'guest-expiry' } }),
    revokeButton(client, link),
  ]);
  const facts = el('p', { className: 'hint' }, [activityLine, ...(link.oneViewer ? [document.createTextNode(' · one viewer at a time')] : [])]);
  const li = el('li', { className: 'guest', attrs: { 'data-testid': 'guest-link', 'data-guest-id': link.id, 'data-expired': String(link.expired) } }, [
    head,
    facts,
    ...share(link, cameraName),
  ]);
  return { li, activity: activityLine };
}

/** The link, its copy buttons and its QR code; or why it cannot be shown. */
function share(link: GuestLinkRow, cameraName: string): HTMLElement[] {
  if (link.expired) return [];
  if (!link.keyKnown) {
    return [
      el('p', {
        className: 'hint',
        text: 'Made before PushCam last started: only a fingerprint of its key is kept, so the link cannot be shown again. It still works; to share it anew, make a new one.',
      }),
    ];
  }
  if (!link.url) return [el('p', { className: 'hint', text: 'Start broadcasting to get the link.' })];
  const url = el('code', { className: 'url', text: link.url, attrs: { 'data-testid': 'guest-url' } });
  const copy = el('button', { className: 'button small', text: 'Copy', attrs: { type: 'button', 'data-testid': 'copy-guest-url', 'aria-label': `Copy the link for ${link.name}` } });
  copy.addEventListener('click', () => void copyText(link.url, copy, url));
  const invitation = invitationText(link, cameraName);
  const shown = el('p', { className: 'invitation', text: invitation, attrs: { 'data-testid': 'guest-invitation' } });
  const copyInvitation = el('button', { className: 'button small', text: 'Copy invitation', attrs: { type: 'button', 'data-testid': 'copy-guest-invitation' } });
  copyInvitation.addEventListener('click', () => void copyText(invitation, copyInvitation, shown));
  const parts: HTMLElement[] = [el('div', { className: 'url-row' }, [url, copy]), el('div', { className: 'invitation-row' }, [shown, copyInvitation])];
  if (link.qrSvg) {
    // As for the main link: the SVG text only ever becomes an image, through a blob: URL.
    const img = el('img', { className: 'qr', attrs: { alt: `QR code of the link for ${link.name}`, 'data-testid': 'guest-qr' } });
    img.src = URL.createObjectURL(new Blob([link.qrSvg], { type: 'image/svg+xml' }));
    img.addEventListener('load', () => URL.revokeObjectURL(img.src), { once: true });
    parts.push(el('details', { className: 'guest-qr' }, [el('summary', { text: 'QR code' }), img]));
  }
  return parts;
}

function revokeButton(client: ControlClient, link: GuestLinkRow): HTMLButtonElement {
  const label = link.expired ? 'Remove' : 'Revoke';
  const button = el('button', {
    className: 'button small danger',
    text: label,
    attrs: { type: 'button', 'data-testid': 'revoke-guest', 'aria-label': `${label} the guest link for ${link.name}` },
  });
  button.addEventListener('click', () => {
    button.disabled = true;
    client.call('revokeGuestLink', link.id).catch((err: unknown) => {
      button.title = errorMessage(err);
      button.disabled = false;
    });
  });
  return button;
}

/** What a guest is sent: who invites, to what, until when, and the link. */
function invitationText(link: GuestLinkRow, cameraName: string): string {
  const what = cameraName ? `"${cameraName}"` : 'my camera';
  const until = link.expiresAt === null ? '' : ` The link works until ${formatWhen(link.expiresAt)}.`;
  return `You can watch ${what} live in your browser: ${link.url}${until}`;
}

function lifetime(link: GuestLinkRow): string {
  if (link.expired) return 'expired';
  return link.expiresAt === null ? 'never expires' : `until ${formatWhen(link.expiresAt)}`;
}

function activity(link: GuestLinkRow, now: number): string {
  if (link.viewers > 0) return `${plural(link.viewers, 'viewer', 'viewers')} now`;
  if (link.lastSeen === null) return 'not used yet';
  return `last seen ${formatDuration(now - link.lastSeen)} ago`;
}

function formatWhen(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

/** The dialog that makes a link: it stays open with the reason when the core refuses. */
function bindNewGuestLink(client: ControlClient): void {
  const dialog = byTestId('guest-dialog', HTMLDialogElement);
  const form = byTestId('guest-form', HTMLFormElement, dialog);
  const name = byTestId('guest-name-field', HTMLInputElement, dialog);
  // The core checks a guest link's name as it checks the camera's (server/control/calls.ts).
  name.maxLength = SETTINGS_TABLE.name.max;
  const expiry = byTestId('guest-expiry-field', HTMLSelectElement, dialog);
  const oneViewer = byTestId('guest-one-viewer', HTMLInputElement, dialog);
  const error = byTestId('guest-error', HTMLElement, dialog);
  const create = byTestId('create-guest', HTMLButtonElement, dialog);
  expiry.replaceChildren(...GUEST_EXPIRIES.map((choice, i) => el('option', { text: choice.label, attrs: { value: String(i) } })));
  expiry.value = '1';
  byTestId('new-guest', HTMLButtonElement).addEventListener('click', () => {
    form.reset();
    expiry.value = '1';
    error.hidden = true;
    dialog.showModal();
  });
  byTestId('cancel-guest', HTMLButtonElement, dialog).addEventListener('click', () => dialog.close());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    create.disabled = true;
    const expiresInMs = GUEST_EXPIRIES[Number(expiry.value)]?.ms ?? null;
    client
      .call('createGuestLink', { name: name.value, expiresInMs, oneViewer: oneViewer.checked })
      .then(() => dialog.close())
      .catch((err: unknown) => {
        setText(error, errorMessage(err));
        error.hidden = false;
      })
      .finally(() => {
        create.disabled = false;
      });
  });
}
