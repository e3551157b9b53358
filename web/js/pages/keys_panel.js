// An API-key list with "Create key" (the key is shown once) and "Revoke", for the caller's own
// keys (/admin/v1/me/api-keys) or, for admins, another user's (/admin/v1/users/{id}/api-keys).
import { api, seg } from '../api.js';
import { h, clear, field, controlOf, table, badge, formDialog, confirmDialog, openDialog, toast, errorPanel, timeEl, dateText } from '../ui.js';

export function keysPanel({ base, currentKeyId, signal, heading }) {
  const create = h('button', { type: 'button', class: 'btn btn-primary' }, 'Create API key');
  const holder = h('div');
  const element = h('section', {}, h('div', { class: 'btn-row' }, heading || null, create), holder);

  async function load() {
    let keys;
    try {
      keys = (await api('GET', base, undefined, { signal })).api_keys;
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      clear(holder).append(errorPanel(e));
      return;
    }
    clear(holder).append(table({
      caption: 'API keys',
      empty: 'No API keys yet.',
      rows: keys,
      rowAttrs: (k) => ({ 'data-key-name': k.name }),
      columns: [
        { label: 'Name', render: (k) => [h('strong', {}, k.name), k.id === currentKeyId ? [' ', badge('This session', 'info')] : null] },
        { label: 'Prefix', render: (k) => h('code', {}, `${k.prefix}…`) },
        { label: 'Created', render: (k) => dateText(k.created_at) },
        { label: 'Last used', render: (k) => timeEl(k.last_used_at) },
        { label: 'Status', render: (k) => (k.revoked ? badge('Revoked', 'bad') : badge('Active', 'ok')) },
        {
          label: 'Actions', className: 'actions-cell',
          render: (k) => (k.revoked ? null : h('button', {
            type: 'button', class: 'btn btn-small', 'aria-label': `Revoke ${k.name}`,
            onclick: async () => {
              const self = k.id === currentKeyId;
              const done = await confirmDialog({
                title: `Revoke ${k.name}?`,
                message: self
                  ? 'You signed in with this key: revoking it ends this session at once.'
                  : 'Anything using this key gets 401 from its next request on.',
                confirmLabel: 'Revoke',
                action: () => api('DELETE', `${base}/${seg(k.id)}`),
              });
              if (done) { toast(`Revoked ${k.name}.`); load(); }
            },
          }, 'Revoke')),
        },
      ],
    }));
  }

  create.addEventListener('click', async () => {
    const name = field({ label: 'Key name', name: 'name', required: true, hint: 'Where it will be used, e.g. “laptop” or “ci”.' });
    const created = await formDialog({
      title: 'Create API key',
      fields: [name],
      submitLabel: 'Create key',
      submit: () => api('POST', base, { name: controlOf(name).value.trim() || undefined }),
    });
    if (!created) return;
    showKeyOnce(created);
    load();
  });

  return { element, load };
}

function showKeyOnce(k) {
  const keyBox = h('p', { class: 'key-once', 'data-testid': 'new-key' }, k.key);
  const copy = h('button', { type: 'button', class: 'btn' }, 'Copy');
  const done = h('button', { type: 'button', class: 'btn btn-primary' }, 'I have saved it');
  const status = h('span', { class: 'small muted', role: 'status' });
  copy.addEventListener('click', async () => {
    try { await navigator.clipboard.writeText(k.key); status.textContent = 'Copied.'; } catch { status.textContent = 'Select the key and copy it.'; }
  });
  const dlg = openDialog({
    title: `API key “${k.name}”`,
    content: [h('p', {}, h('strong', {}, 'Copy this key now. It is shown only once'), ': modelgate keeps only a hash of it.'), keyBox, status],
    actions: [copy, done],
  });
  done.addEventListener('click', () => dlg.close());
}
