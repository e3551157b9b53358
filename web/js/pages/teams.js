// Organization › Teams (org_admin, it_admin).
import { api, seg } from '../api.js';
import { h, clear, field, controlOf, table, pageHead, rowMenu, formDialog, confirmDialog, toast, errorPanel, dateText } from '../ui.js';

export async function renderTeams(ctx) {
  const add = h('button', { type: 'button', class: 'btn btn-primary' }, 'Add team');
  const holder = h('div');
  ctx.main.append(pageHead('Teams', 'Models are shared with teams; users belong to teams.', add), holder);

  async function load() {
    let teams;
    try {
      teams = (await api('GET', '/admin/v1/teams', undefined, { signal: ctx.signal })).teams;
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      clear(holder).append(errorPanel(e));
      add.hidden = e.status === 403;
      return;
    }
    clear(holder).append(table({
      caption: 'Teams',
      empty: 'No teams yet.',
      rows: teams,
      columns: [
        { label: 'Name', render: (t) => h('strong', {}, t.name) },
        { label: 'Created', render: (t) => dateText(t.created_at) },
        {
          label: 'Actions', className: 'actions-cell',
          render: (t) => rowMenu(`Actions for team ${t.name}`, [
            { label: 'Rename', onSelect: async () => { if (await teamDialog(t)) load(); } },
            {
              label: 'Delete', danger: true,
              onSelect: async () => {
                const done = await confirmDialog({
                  title: `Delete team ${t.name}?`,
                  message: 'Its members stay, but lose access to models shared only with this team.',
                  action: () => api('DELETE', `/admin/v1/teams/${seg(t.id)}`),
                });
                if (done) { toast(`Deleted team ${t.name}.`); load(); }
              },
            },
          ]),
        },
      ],
    }));
  }
  add.addEventListener('click', async () => { if (await teamDialog(null)) load(); });
  await load();
}

async function teamDialog(team) {
  const name = field({ label: 'Team name', name: 'name', value: team ? team.name : '', required: true });
  const r = await formDialog({
    title: team ? `Rename ${team.name}` : 'Add team',
    fields: [name],
    submitLabel: team ? 'Save' : 'Add team',
    submit: () => (team
      ? api('PATCH', `/admin/v1/teams/${seg(team.id)}`, { name: controlOf(name).value.trim() })
      : api('POST', '/admin/v1/teams', { name: controlOf(name).value.trim() })),
  });
  if (r) toast(team ? `Renamed to ${r.name}.` : `Added team ${r.name}.`);
  return !!r;
}
