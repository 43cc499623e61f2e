import { setText } from './dom.js';

const FLASH_MS = 1600;
const flashTimers = new WeakMap<HTMLButtonElement, ReturnType<typeof setTimeout>>();

/**
 * Copies `text` and says so on the button. Where the clipboard is not available (an insecure
 * page, a denied permission), selects `shown` instead and tells the user to copy it themselves.
 */
export async function copyText(text: string, button: HTMLButtonElement, shown: HTMLElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    flash(button, 'Copied');
  } catch {
    const selection = getSelection();
    selection?.selectAllChildren(shown);
    flash(button, /Mac/.test(navigator.userAgent) ? 'Press ⌘C' : 'Press Ctrl+C');
  }
}

/** Shows `message` on the button for a moment, then its own label again. */
function flash(button: HTMLButtonElement, message: string): void {
  const label = button.dataset.label ?? button.textContent ?? '';
  button.dataset.label = label;
  setText(button, message);
  button.classList.add('flashed');
  clearTimeout(flashTimers.get(button));
  flashTimers.set(
    button,
    setTimeout(() => {
      setText(button, label);
      button.classList.remove('flashed');
    }, FLASH_MS),
  );
}
