import type { ControlClient, ControlState, ViewerRow } from '../../shared/contract.js';
import { byTestId, el, errorMessage, setText } from './dom.js';
import { formatBytes, formatCount, formatDuration, formatLink, formatTier, plural } from './format.js';

// The viewer table: one row per open stream, updated in place (a row being kicked keeps its
// focus and its disabled button), with the count in the window's header.

const COLUMNS = ['address', 'client', 'via', 'connected', 'picture', 'link', 'sent', 'skipped', 'data'] as const;
type Column = (typeof COLUMNS)[number];
/** Said after a figure where the table is too narrow for its headers (app.css stacks each row). */
const UNITS: Partial<Record<Column, string>> = { connected: 'connected', sent: 'sent', skipped: 'skipped' };

interface Row {
  tr: HTMLTableRowElement;
  cells: Record<Column, HTMLTableCellElement>;
}

export function bindViewers(client: ControlClient): (state: ControlState) => void {
  const body = byTestId('viewers-body', HTMLTableSectionElement);
  const empty = byTestId('viewers-empty', HTMLElement);
  const table = byTestId('viewers-table', HTMLTableElement);
  const count = byTestId('viewers-count', HTMLElement);
  const limit = byTestId('viewers-limit', HTMLElement);
  const rows = new Map<number, Row>();

  return (state) => {
    const { viewers } = state;
    setText(count, plural(viewers.length, 'viewer', 'viewers'));
    count.dataset.count = String(viewers.length);
    setText(limit, `${viewers.length} of ${state.settings.maxViewers}`);
    empty.hidden = viewers.length > 0;
    table.hidden = viewers.length === 0;
    const now = Date.now();
    for (const [id, row] of rows) {
      if (viewers.some((v) => v.id === id)) continue;
      row.tr.remove();
      rows.delete(id);
    }
    for (const viewer of viewers) {
      let row = rows.get(viewer.id);
      if (!row) {
        row = newRow(client, viewer);
        rows.set(viewer.id, row);
        body.append(row.tr);
      }
      fillRow(row, viewer, now);
    }
  };
}

function newRow(client: ControlClient, viewer: ViewerRow): Row {
  const cell = (c: Column): HTMLTableCellElement => el('td', { className: `col-${c}`, attrs: UNITS[c] ? { 'data-unit': UNITS[c] } : {} });
  const cells = Object.fromEntries(COLUMNS.map((c) => [c, cell(c)])) as Record<Column, HTMLTableCellElement>;
  const kick = el('button', {
    className: 'button small danger',
    text: 'Kick',
    attrs: { type: 'button', 'data-testid': 'kick', 'aria-label': `Disconnect the viewer at ${viewer.ip}` },
  });
  kick.addEventListener('click', () => {
    kick.disabled = true;
    client.call('kick', viewer.id).catch((err: unknown) => {
      // Gone already is what the user wanted; anything else they should hear about.
      if (!/no viewer/.test(errorMessage(err))) kick.title = errorMessage(err);
      kick.disabled = false;
    });
  });
  const tr = el('tr', { attrs: { 'data-testid': 'viewer-row', 'data-viewer-id': String(viewer.id) } }, [
    ...COLUMNS.map((c) => cells[c]),
    el('td', { className: 'col-kick' }, [kick]),
  ]);
  return { tr, cells };
}

function fillRow({ cells }: Row, viewer: ViewerRow, now: number): void {
  setText(cells.address, viewer.ip.replace(/^::ffff:/, ''));
  // A page whose stream cannot get through watches by snapshots: still a viewer, and one to know about.
  setText(cells.client, viewer.via === 'snapshots' ? `${viewer.client} · snapshots` : viewer.client);
  cells.client.title = viewer.userAgent;
  // Which key let it in: the broadcaster's own, or a guest link's (by its name).
  setText(cells.via, viewer.guestName ?? 'main key');
  setText(cells.connected, formatDuration(now - viewer.since));
  setText(cells.picture, formatTier(viewer.tier));
  setText(cells.link, formatLink(viewer.fps, viewer.link));
  cells.link.title = viewer.link ? `round trip ${Math.round(viewer.link.rttMs)} ms, ${formatBytes(viewer.link.inFlightBytes + viewer.link.unsentBytes)} on the way` : '';
  setText(cells.sent, formatCount(viewer.framesSent));
  setText(cells.skipped, formatCount(viewer.framesSkipped));
  setText(cells.data, formatBytes(viewer.bytesSent));
}
