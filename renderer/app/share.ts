import type { ControlClient, ControlState } from '../../shared/contract.js';
import { copyText } from './copy.js';
import { byTestId, el, errorMessage, setText } from './dom.js';
import { type ApplySettings, liveField } from './field.js';

// The share card: the viewer links with copy buttons, the first one as a QR code, the access
// key (hidden until asked for), and open access behind its own switch. Links that reach this
// computer only say so, and get no QR code: no phone could open them.

const HIDDEN_KEY = '•'.repeat(16);

export function bindShare(client: ControlClient, apply: ApplySettings): (state: ControlState) => void {
  const showUrls = bindUrls();
  const showQr = bindQr();
  const showKey = bindKey(client);
  const openAccess = byTestId('open-access', HTMLInputElement);
  const openAccessField = liveField(
    {
      controls: [openAccess],
      error: byTestId('open-access-error', HTMLElement),
      read: () => ({ openAccess: openAccess.checked }),
      write: (settings) => {
        openAccess.checked = settings.openAccess;
      },
    },
    apply,
  );
  const card = byTestId('share-card', HTMLElement);
  return (state) => {
    showUrls(state);
    showQr(state.share.qrSvg);
    showKey(state.share);
    openAccessField.show(state.settings);
    card.dataset.open = String(state.settings.openAccess);
  };
}

function bindUrls(): (state: ControlState) => void {
  const list = byTestId('share-urls', HTMLUListElement);
  const empty = byTestId('share-empty', HTMLElement);
  const hint = byTestId('share-hint', HTMLElement);
  let shown = '';
  return ({ share }) => {
    const { urls } = share;
    empty.hidden = urls.length > 0;
    hint.hidden = urls.length === 0;
    setText(empty, `Start broadcasting to get a link ${share.reach === 'local' ? 'for this computer' : 'for other screens'}.`);
    setText(hint, shareHint(share));
    const key = urls.join('\n');
    if (key === shown) return;
    shown = key;
    list.replaceChildren(...urls.map(urlRow));
  };
}

function shareHint(share: ControlState['share']): string {
  if (share.reach === 'network') {
    const byName = share.nameUrl ? ' The .local link opens where such names resolve: Apple devices, Windows, most Linux, Android 12 and later.' : '';
    return `Open a link on any device on the network, or scan the code with a phone.${byName}`;
  }
  if (share.host !== null) return `Only this computer can open it: --host ${share.host} keeps everyone else out.`;
  return 'Only this computer can open it: other devices cannot connect. To share it, choose "Everyone on the network" in the settings.';
}

function urlRow(url: string): HTMLLIElement {
  const text = el('code', { className: 'url', text: url, attrs: { 'data-testid': 'share-url' } });
  const copy = el('button', { className: 'button small', text: 'Copy', attrs: { type: 'button', 'data-testid': 'copy-url', 'aria-label': `Copy ${url}` } });
  copy.addEventListener('click', () => void copyText(url, copy, text));
  return el('li', { className: 'url-row' }, [text, copy]);
}

/**
 * The QR code arrives as SVG text. Shown through a blob: URL in an <img>, it is only ever an
 * image: nothing in it can run or reach the page.
 */
function bindQr(): (svgText: string) => void {
  const img = byTestId('qr', HTMLImageElement);
  let shown = '';
  return (svgText) => {
    if (svgText === shown) return;
    shown = svgText;
    const previous = img.src;
    if (svgText) img.src = URL.createObjectURL(new Blob([svgText], { type: 'image/svg+xml' }));
    else img.removeAttribute('src');
    img.hidden = !svgText;
    if (previous.startsWith('blob:')) URL.revokeObjectURL(previous);
  };
}

function bindKey(client: ControlClient): (share: ControlState['share']) => void {
  const text = byTestId('key', HTMLElement);
  const kept = byTestId('key-kept', HTMLElement);
  const renew = byTestId('new-key', HTMLButtonElement);
  const toggle = byTestId('show-key', HTMLButtonElement);
  const copy = byTestId('copy-key', HTMLButtonElement);
  let key = '';
  const render = (): void => {
    const visible = toggle.getAttribute('aria-pressed') === 'true';
    setText(text, visible ? key : HIDDEN_KEY);
    setText(toggle, visible ? 'Hide' : 'Show');
  };
  toggle.addEventListener('click', () => {
    toggle.setAttribute('aria-pressed', String(toggle.getAttribute('aria-pressed') !== 'true'));
    render();
  });
  copy.addEventListener('click', () => {
    // The fallback selects the key on screen, so it must be there to select.
    toggle.setAttribute('aria-pressed', 'true');
    render();
    void copyText(key, copy, text);
  });
  bindNewKey(client);
  return (share) => {
    key = share.key;
    render();
    setText(kept, share.canRenewKey ? `Kept ${share.keyKept}.` : `The key was ${share.keyKept}: restart PushCam without --key to make a new one.`);
    renew.disabled = !share.canRenewKey;
  };
}

/** "New key" asks first: everyone watching is dropped and the old links stop working. */
function bindNewKey(client: ControlClient): void {
  const button = byTestId('new-key', HTMLButtonElement);
  const dialog = byTestId('new-key-dialog', HTMLDialogElement);
  const error = byTestId('new-key-error', HTMLElement);
  button.addEventListener('click', () => {
    // Escape closes the dialog without a value, so an earlier "confirm" must not linger.
    dialog.returnValue = '';
    dialog.showModal();
  });
  byTestId('confirm-new-key', HTMLButtonElement, dialog).addEventListener('click', () => dialog.close('confirm'));
  byTestId('cancel-new-key', HTMLButtonElement, dialog).addEventListener('click', () => dialog.close('cancel'));
  dialog.addEventListener('close', () => {
    if (dialog.returnValue !== 'confirm') return;
    error.hidden = true;
    client.call('newKey').catch((err: unknown) => {
      setText(error, `Could not make a new key: ${errorMessage(err)}`);
      error.hidden = false;
    });
  });
}
