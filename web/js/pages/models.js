// Models & Guardrails › Models: the model table (with live health), a model's detail view
// (health, cause and what to check, recent checks, "Check now"), edit and delete.
import { api, seg } from '../api.js';
import {
  h, clear, table, pageHead, rowMenu, statusBadge, timeEl, dateText, badge, field, controlOf,
  formDialog, confirmDialog, toast, errorPanel, replaceKeepingFocus,
} from '../ui.js';
import { teamAccessPicker, teamAccessText, credentialText, causeInfo } from '../pickers.js';

const detailHash = (id) => `#/models/${seg(id)}`;

// An open menu or dialog is not re-rendered under the user (focus elsewhere is kept).
function isBusy(container) {
  return !!(document.querySelector('dialog[open]') || container.querySelector('.menu:not([hidden])'));
}

export async function renderModels(ctx) {
  const addButton = h('a', { class: 'btn btn-primary', href: '#/add-model' }, '+ Add model');
  const refresh = h('button', { type: 'button', class: 'btn' }, 'Refresh');
  const holder = h('div', { 'aria-live': 'off' });
  ctx.main.append(pageHead('Models', 'Models your teams can use, with their health.', refresh, addButton), holder);

  let lastJson = '';
  async function load(force) {
    let body;
    try {
      body = await api('GET', '/admin/v1/models', undefined, { signal: ctx.signal });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      clear(holder).append(errorPanel(e));
      addButton.hidden = e.status === 403;
      return;
    }
    const json = JSON.stringify(body.models);
    if (!force && (json === lastJson || isBusy(holder))) return;
    lastJson = json;
    replaceKeepingFocus(holder, modelsTable(ctx, body.models, () => load(true)));
  }
  refresh.addEventListener('click', () => load(true));
  await load(true);
  ctx.every(2500, () => load(false));
}

function modelsTable(ctx, models, reload) {
  return table({
    caption: 'Models',
    empty: 'No models yet. Use “+ Add model” to enable models from a provider’s catalog.',
    rows: models,
    rowAttrs: (m) => ({ 'data-model-id': m.id }),
    columns: [
      { label: 'Name', render: (m) => h('a', { href: detailHash(m.id) }, m.name || m.id) },
      { label: 'Provider', className: 'nowrap', render: (m) => providerName(m.provider) },
      { label: 'Model ID', render: (m) => h('code', { class: 'break' }, m.id) },
      { label: 'Region', className: 'nowrap', render: (m) => m.region },
      { label: 'Credential', render: (m) => credentialText(m.credential) },
      { label: 'Team Access', render: (m) => teamAccessText(m.team_access) },
      { label: 'Status', className: 'nowrap', render: (m) => statusBadge(m.health && m.health.status) },
      { label: 'Last checked', className: 'nowrap', render: (m) => timeEl(m.health && m.health.last_checked_at) },
      {
        label: 'Actions', className: 'actions-cell',
        render: (m) => rowMenu(`Actions for ${m.name || m.id}`, [
          { label: 'View', onSelect: () => ctx.navigate(detailHash(m.id)) },
          { label: 'Edit', onSelect: async () => { if (await editModel(m)) reload(); } },
          { label: 'Delete', danger: true, onSelect: async () => { if (await deleteModel(m)) reload(); } },
        ]),
      },
    ],
  });
}

function providerName(id) {
  return { bedrock: 'AWS Bedrock', huggingface: 'HuggingFace', nvidia: 'Nvidia' }[id] || id;
}

// The edit dialog: display name, team access and the saved credential. Resolves true when saved.
async function editModel(m) {
  const picker = await teamAccessPicker(m.team_access);
  let creds = [];
  try { creds = (await api('GET', '/admin/v1/credentials')).credentials.filter((c) => c.provider === m.provider); } catch { creds = []; }
  const nameField = field({ label: 'Display name', name: 'name', value: m.name, required: true });
  const currentCred = m.credential && !m.credential.inline ? m.credential.id : '';
  const credOptions = [
    ...(m.credential && m.credential.inline ? [{ value: '', label: credentialText(m.credential) }] : []),
    ...creds.map((c) => ({ value: c.id, label: `${c.name} (${c.region})` })),
  ];
  const credField = credOptions.length
    ? field({ label: 'Credentials', name: 'credential', type: 'select', value: currentCred, options: credOptions,
      hint: 'Switch the saved credentials this model uses.' })
    : null;
  const result = await formDialog({
    title: `Edit ${m.name || m.id}`,
    fields: [nameField, picker.element, credField],
    submit: async () => {
      const patch = { name: controlOf(nameField).value.trim(), team_access: picker.value() };
      if (credField && controlOf(credField).value && controlOf(credField).value !== currentCred) {
        patch.credential = controlOf(credField).value;
      }
      return api('PATCH', `/admin/v1/models/${seg(m.id)}`, patch);
    },
  });
  if (result) toast(`Saved ${m.name || m.id}.`);
  return !!result;
}

function deleteModel(m) {
  return confirmDialog({
    title: `Delete ${m.name || m.id}?`,
    message: `Clients calling “${m.id}” will get 404 model_not_found. This cannot be undone.`,
    action: () => api('DELETE', `/admin/v1/models/${seg(m.id)}`),
  }).then((done) => { if (done) toast(`Deleted ${m.name || m.id}.`); return done; });
}

// ---------------------------------------------------------------------------------------------
// Detail view

export async function renderModelDetail(ctx) {
  const id = ctx.params.id;
  const holder = h('div');
  ctx.main.append(h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/models' }, 'Models'), ' › ', id), holder);
  let lastJson = '';
  let first = true;

  async function load(force) {
    let model;
    let health = null;
    try {
      model = await api('GET', `/admin/v1/models/${seg(id)}`, undefined, { signal: ctx.signal });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      clear(holder).append(errorPanel(e));
      return;
    }
    try {
      health = await api('GET', `/admin/v1/models/${seg(id)}/health`, undefined, { signal: ctx.signal });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      health = { unavailable: e.message };
    }
    const json = JSON.stringify([model, health]);
    if (!force && (json === lastJson || isBusy(holder))) return;
    lastJson = json;
    replaceKeepingFocus(holder, detailView(ctx, model, health, () => load(true)));
    if (first) { first = false; const hd = holder.querySelector('h1'); if (hd) hd.focus(); }
  }
  await load(true);
  ctx.every(2000, () => load(false));
}

function detailView(ctx, m, healthBody, reload) {
  // GET .../health answers the health object with the model's facts and `checks`; the health
  // fields may sit at the top level or under "health".
  const hb = healthBody && !healthBody.unavailable ? healthBody : null;
  const health = (hb && (hb.health || (hb.status ? hb : null))) || m.health || { status: 'unknown' };
  const checks = (hb && hb.checks) || [];

  const checkNow = h('button', { type: 'button', class: 'btn btn-primary' }, 'Check now');
  const status = h('p', { class: 'small', role: 'status' });
  checkNow.addEventListener('click', async () => {
    checkNow.disabled = true;
    status.textContent = 'Checking…';
    try {
      const r = await api('POST', `/admin/v1/models/${seg(m.id)}/health-check`);
      const hr = (r && (r.health || r)) || {};
      status.textContent = '';
      toast(`Check finished: ${hr.status === 'healthy' ? 'Healthy' : hr.status === 'unhealthy' ? 'Unhealthy' : 'done'}.`);
    } catch (e) {
      status.textContent = `Check failed: ${e.message}`;
    } finally {
      checkNow.disabled = false;
      reload();
    }
  });
  const edit = h('button', { type: 'button', class: 'btn' }, 'Edit');
  edit.addEventListener('click', async () => { if (await editModel(m)) reload(); });
  const del = h('button', { type: 'button', class: 'btn btn-danger' }, 'Delete');
  del.addEventListener('click', async () => { if (await deleteModel(m)) ctx.navigate('#/models'); });

  const healthPanel = h('section', { class: 'panel', 'aria-labelledby': 'health-title' },
    h('h2', { id: 'health-title' }, 'Health'),
    h('div', { class: 'health-summary' },
      h('span', { class: 'health-status', 'data-testid': 'health-status' }, statusBadge(health.status)),
      health.in_pool === false ? badge('Out of the pool: clients get 503', 'bad') : null,
      h('span', { class: 'muted' }, 'Last checked ', timeEl(health.last_checked_at)),
      health.next_check_at ? h('span', { class: 'muted' }, 'Next check ', timeEl(health.next_check_at)) : null),
    causeBox(health, m),
    status);

  const facts = h('section', { class: 'panel', 'aria-labelledby': 'facts-title' },
    h('h2', { id: 'facts-title' }, 'Model'),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Provider'), h('dd', {}, providerName(m.provider)),
      h('dt', {}, 'Model name'), h('dd', {}, m.name || '—'),
      h('dt', {}, 'Model ID (clients use)'), h('dd', {}, h('code', {}, m.id)),
      h('dt', {}, 'Provider model ID'), h('dd', {}, h('code', {}, m.provider_model_id)),
      h('dt', {}, 'Region'), h('dd', {}, m.region),
      h('dt', {}, 'Credentials'), h('dd', {}, credentialText(m.credential)),
      h('dt', {}, 'Team access'), h('dd', { 'data-testid': 'team-access' }, teamAccessText(m.team_access)),
      h('dt', {}, 'Added'), h('dd', {}, dateText(m.created_at))));

  const history = h('section', { 'aria-labelledby': 'checks-title' },
    h('h2', { id: 'checks-title' }, 'Recent checks'),
    healthBody && healthBody.unavailable
      ? h('p', { class: 'muted' }, `Check history is not available: ${healthBody.unavailable}`)
      : table({
        caption: 'Recent checks',
        empty: 'No checks yet.',
        rows: checks.slice(0, 10),
        columns: [
          { label: 'When', render: (c) => timeEl(c.at) },
          { label: 'Status', render: (c) => statusBadge(c.status) },
          { label: 'Latency', render: (c) => (c.latency_ms === null || c.latency_ms === undefined ? '—' : `${c.latency_ms} ms`) },
          { label: 'Cause', render: (c) => (c.cause ? causeInfo(c.cause).title : '—') },
          { label: 'Details', render: (c) => h('span', { class: 'small break' }, c.message || '') },
        ],
      }));

  return h('div', {},
    pageHead(m.name || m.id, m.id, checkNow, edit, del),
    healthPanel, facts, history);
}

function causeBox(health, m) {
  if (health.status === 'unhealthy') {
    const info = causeInfo(health.cause);
    return h('div', { class: 'cause', 'data-testid': 'cause' },
      h('h3', {}, info.title),
      info.what ? h('p', {}, info.what) : null,
      health.message ? h('p', {}, h('strong', {}, 'What the provider said: '), health.message) : null,
      info.check.length ? h('div', {}, h('strong', {}, 'What to check:'), h('ul', {}, info.check.map((c) => h('li', {}, c)))) : null,
      health.cooldown_until ? h('p', { class: 'small muted' }, 'Checked again ', timeEl(health.cooldown_until), '; it returns to the pool by itself when a check succeeds.') : null);
  }
  if (health.message) {
    return h('div', { class: 'cause warn', 'data-testid': 'cause' }, h('p', {}, health.message));
  }
  if (health.status === 'unknown') {
    return h('p', { class: 'muted' }, `Not checked yet. The first check of ${m.name || m.id} runs right after it is added.`);
  }
  return null;
}
