// Organization › Audit log (org_admin, it_admin): every change, newest first. Never a secret.
import { api } from '../api.js';
import { h, clear, table, pageHead, errorPanel, dateText } from '../ui.js';

export async function renderAudit(ctx) {
  const holder = h('div');
  ctx.main.append(pageHead('Audit log', 'Every create, update, delete, key issue or revoke, and health transition.'), holder);
  let events;
  try {
    events = (await api('GET', '/admin/v1/audit?limit=200', undefined, { signal: ctx.signal })).events;
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    clear(holder).append(errorPanel(e));
    return;
  }
  holder.append(table({
    caption: 'Audit events',
    empty: 'No events yet.',
    rows: events,
    columns: [
      { label: 'When', render: (e) => dateText(e.at) },
      { label: 'Actor', render: (e) => h('code', {}, e.actor) },
      { label: 'Action', render: (e) => e.action },
      { label: 'Target', render: (e) => h('code', { class: 'break' }, e.target) },
      { label: 'Details', render: (e) => h('code', { class: 'small break' }, JSON.stringify(e.details)) },
    ],
  }));
}
