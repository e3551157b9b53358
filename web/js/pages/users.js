// Organization › Users (org_admin, it_admin): people, their role and teams, and their API keys.
import { api, seg } from '../api.js';
import { h, clear, field, controlOf, table, pageHead, rowMenu, badge, formDialog, confirmDialog, openDialog, toast, errorPanel, uid } from '../ui.js';
import { keysPanel } from './keys_panel.js';

const ROLES = [
  { value: 'org_admin', label: 'Org admin: everything' },
  { value: 'it_admin', label: 'IT admin: everything' },
  { value: 'full_access', label: 'Full access: models and credentials, no users' },
  { value: 'builder', label: 'Builder: uses models shared with their teams' },
  { value: 'member', label: 'Member: no model access' },
];

export async function renderUsers(ctx) {
  const add = h('button', { type: 'button', class: 'btn btn-primary' }, 'Add user');
  const holder = h('div');
  ctx.main.append(pageHead('Users', 'Who may sign in, with which role and teams.', add), holder);
  let teams = [];

  async function load() {
    let users;
    try {
      [users, teams] = await Promise.all([
        api('GET', '/admin/v1/users', undefined, { signal: ctx.signal }).then((b) => b.users),
        api('GET', '/admin/v1/teams', undefined, { signal: ctx.signal }).then((b) => b.teams),
      ]);
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      clear(holder).append(errorPanel(e));
      add.hidden = e.status === 403;
      return;
    }
    clear(holder).append(table({
      caption: 'Users',
      rows: users,
      rowAttrs: (u) => ({ 'data-user-email': u.email }),
      columns: [
        { label: 'Name', render: (u) => [h('strong', {}, u.name), u.id === ctx.me.id ? [' ', badge('You', 'info')] : null] },
        { label: 'Email', render: (u) => h('span', { class: 'break' }, u.email) },
        { label: 'Role', render: (u) => u.role },
        { label: 'Teams', render: (u) => (u.teams.length ? u.teams.map((t) => t.name).join(', ') : h('span', { class: 'muted' }, 'None')) },
        {
          label: 'Actions', className: 'actions-cell',
          render: (u) => rowMenu(`Actions for ${u.name}`, [
            { label: 'Edit', onSelect: async () => { if (await userDialog(u, teams)) load(); } },
            { label: 'API keys', onSelect: () => userKeys(u) },
            {
              label: 'Delete', danger: true,
              onSelect: async () => {
                const done = await confirmDialog({
                  title: `Delete ${u.name}?`,
                  message: 'Their API keys stop working at once.',
                  action: () => api('DELETE', `/admin/v1/users/${seg(u.id)}`),
                });
                if (done) { toast(`Deleted ${u.name}.`); load(); }
              },
            },
          ]),
        },
      ],
    }));
  }
  add.addEventListener('click', async () => { if (await userDialog(null, teams)) load(); });
  await load();
}

async function userDialog(user, teams) {
  const email = field({ label: 'Email', name: 'email', type: 'email', value: user ? user.email : '', required: true });
  const name = field({ label: 'Name', name: 'name', value: user ? user.name : '', required: true });
  const role = field({ label: 'Role', name: 'role', type: 'select', options: ROLES, value: user ? user.role : 'builder' });
  const member = new Set(user ? user.teams.map((t) => t.id) : []);
  const teamSet = h('fieldset', { 'data-param': 'teams' }, h('legend', {}, 'Teams'),
    teams.length === 0 ? h('p', { class: 'muted small' }, 'No teams yet.') : h('div', { class: 'choices-inline' }, teams.map((t) => {
      const id = uid('ut');
      return h('div', { class: 'choice' }, h('input', { type: 'checkbox', id, value: t.id, checked: member.has(t.id) }), h('label', { for: id }, t.name));
    })),
    h('div', { class: 'field-error', hidden: true }));
  const r = await formDialog({
    title: user ? `Edit ${user.name}` : 'Add user',
    fields: [email, name, role, teamSet],
    submitLabel: user ? 'Save' : 'Add user',
    submit: () => {
      const body = {
        email: controlOf(email).value.trim(),
        name: controlOf(name).value.trim(),
        role: controlOf(role).value,
        teams: [...teamSet.querySelectorAll('input:checked')].map((c) => c.value),
      };
      return user ? api('PATCH', `/admin/v1/users/${seg(user.id)}`, body) : api('POST', '/admin/v1/users', body);
    },
  });
  if (r) toast(user ? `Saved ${r.name}.` : `Added ${r.name}. Create an API key for them from the row menu.`);
  return !!r;
}

function userKeys(u) {
  const panel = keysPanel({ base: `/admin/v1/users/${seg(u.id)}/api-keys` });
  const close = h('button', { type: 'button', class: 'btn' }, 'Close');
  const dlg = openDialog({ title: `API keys of ${u.name}`, content: [panel.element], actions: [close], wide: true });
  close.addEventListener('click', () => dlg.close());
  panel.load();
}
