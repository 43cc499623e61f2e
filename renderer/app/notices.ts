import type { ControlState } from '../../shared/contract.js';
import { byTestId, el } from './dom.js';

// Things the core wants the user to know once (a damaged settings file). Dismissing one hides it
// in this window; the core has no call to forget it.

export function bindNotices(): (state: ControlState) => void {
  const area = byTestId('notices', HTMLElement);
  const dismissed = new Set<string>();
  let shown = '';
  const render = (notices: string[]): void => {
    const visible = notices.filter((n) => !dismissed.has(n));
    const key = visible.join('\n');
    if (key === shown) return;
    shown = key;
    area.replaceChildren(
      ...visible.map((notice) => {
        const dismiss = el('button', { className: 'button small', text: 'Dismiss', attrs: { type: 'button', 'data-testid': 'dismiss-notice' } });
        dismiss.addEventListener('click', () => {
          dismissed.add(notice);
          render(notices);
        });
        return el('div', { className: 'notice', attrs: { role: 'status', 'data-testid': 'notice' } }, [el('p', { text: notice }), dismiss]);
      }),
    );
    area.hidden = visible.length === 0;
  };
  return (state) => render(state.notices);
}
