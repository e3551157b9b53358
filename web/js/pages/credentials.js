// Models & Guardrails › LLM Credentials: named credential sets. Secrets are write-only: the
// forms send them, reads never return them (only "secret set" and a masked key id).
import { api, seg } from '../api.js';
import {
  h, clear, field, controlOf, table, pageHead, rowMenu, badge, formDialog, confirmDialog, toast,
  errorPanel, uid, dateText, openDialog, replaceKeepingFocus,
} from '../ui.js';

const AUTH_LABEL = { access_keys: 'Access keys', role_arn: 'Role ARN' };

export async function renderCredentials(ctx) {
  const add = h('button', { type: 'button', class: 'btn btn-primary' }, 'Add credentials');
  const holder = h('div');
  ctx.main.append(pageHead('LLM Credentials', 'Named provider credentials that models use. Secrets are encrypted and never shown again.', add), holder);
  let providers = [];

  async function load() {
    let creds;
    try {
      [creds, providers] = await Promise.all([
        api('GET', '/admin/v1/credentials', undefined, { signal: ctx.signal }).then((b) => b.credentials),
        api('GET', '/admin/v1/providers', undefined, { signal: ctx.signal }).then((b) => b.providers),
      ]);
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      clear(holder).append(errorPanel(e));
      add.hidden = e.status === 403;
      return;
    }
    replaceKeepingFocus(holder, table({
      caption: 'Credentials',
      empty: 'No saved credentials yet. Add one to share it between models.',
      rows: creds,
      rowAttrs: (c) => ({ 'data-credential': c.name }),
      columns: [
        { label: 'Name', render: (c) => h('strong', {}, c.name) },
        { label: 'Provider', render: (c) => providerName(providers, c.provider) },
        { label: 'Auth type', render: (c) => AUTH_LABEL[c.auth.type] || c.auth.type },
        { label: 'Region', render: (c) => c.region },
        { label: 'Models using it', render: (c) => modelsCell(c.models || []) },
        { label: 'Rotation due', render: (c) => (c.rotation_due ? badge('Rotate now', 'warn') : h('span', { class: 'muted' }, `No (rotated ${dateText(c.secret_rotated_at || c.created_at)})`)) },
        {
          label: 'Actions', className: 'actions-cell',
          render: (c) => rowMenu(`Actions for ${c.name}`, [
            { label: 'Edit', onSelect: async () => { if (await editCredential(c, providers)) load(); } },
            { label: 'Test', onSelect: () => testSaved(c) },
            { label: 'Delete', danger: true, onSelect: async () => { if (await deleteCredential(c)) load(); } },
          ]),
        },
      ],
    }));
  }
  add.addEventListener('click', async () => { if (await addCredential(providers)) load(); });
  await load();
}

function providerName(providers, id) {
  const p = providers.find((x) => x.id === id);
  return p ? p.name : id;
}

function modelsCell(models) {
  if (models.length === 0) return h('span', { class: 'muted' }, 'None');
  return h('span', {}, `${models.length}: `, h('span', { class: 'small break' }, models.join(', ')));
}

// The auth part of a credential form for the given auth types. `existing` (a credential read
// back) shows what is set, with empty write-only secret fields.
function authForm(authTypes, existing) {
  const name = uid('authtype');
  const types = authTypes.filter((t) => AUTH_LABEL[t]);
  const initial = existing ? existing.auth.type : types[0];
  const radios = types.map((t) => h('input', { type: 'radio', name, value: t, id: uid('at'), checked: t === initial }));
  const secretHint = existing ? 'Leave empty to keep the current secret.' : 'Write-only: stored encrypted, never shown again.';
  const akId = field({ label: 'Access key ID', name: 'access_key_id', param: 'auth.access_key_id',
    value: '', placeholder: existing && existing.auth.access_key_id ? existing.auth.access_key_id : 'AKIA…' });
  const secret = field({ label: 'Secret access key', name: 'secret_access_key', param: 'auth.secret_access_key', type: 'password',
    placeholder: existing && existing.auth.secret_set ? '•••••••• (set)' : '', hint: secretHint });
  const token = field({ label: 'Session token (optional)', name: 'session_token', param: 'auth.session_token', type: 'password' });
  const roleArn = field({ label: 'Role ARN', name: 'role_arn', param: 'auth.role_arn',
    value: existing && existing.auth.role_arn ? existing.auth.role_arn : '', placeholder: 'arn:aws:iam::123456789012:role/name' });
  const externalId = field({ label: 'External ID (optional)', name: 'external_id', param: 'auth.external_id',
    value: existing && existing.auth.external_id ? existing.auth.external_id : '' });
  const sessionName = field({ label: 'Session name (optional)', name: 'session_name', param: 'auth.session_name',
    value: existing && existing.auth.session_name ? existing.auth.session_name : '' });
  const bodies = {
    access_keys: h('div', {}, akId, secret, token),
    role_arn: h('div', {}, roleArn, externalId, sessionName),
  };
  const current = () => (radios.find((r) => r.checked) || {}).value;
  const sync = () => { for (const [t, b] of Object.entries(bodies)) b.hidden = t !== current(); };
  radios.forEach((r) => r.addEventListener('change', sync));
  sync();
  const element = h('fieldset', { 'data-param': 'auth' }, h('legend', {}, existing ? 'Authentication' : 'Authentication'),
    h('div', { class: 'choices-inline', 'data-param': 'auth.type' }, types.map((t, i) => h('div', { class: 'choice' }, radios[i], h('label', { for: radios[i].id }, AUTH_LABEL[t])))),
    Object.values(bodies),
    h('div', { class: 'field-error', hidden: true }));
  return {
    element,
    // The auth object to send, or null when editing and nothing was entered (keep the old one).
    value() {
      const t = current();
      if (t === 'access_keys') {
        const id = controlOf(akId).value.trim();
        const s = controlOf(secret).value;
        if (existing && existing.auth.type === 'access_keys' && !id && !s && !controlOf(token).value) return null;
        const a = { type: t, access_key_id: id, secret_access_key: s };
        if (controlOf(token).value) a.session_token = controlOf(token).value;
        return a;
      }
      const a = { type: t, role_arn: controlOf(roleArn).value.trim() };
      if (controlOf(externalId).value.trim()) a.external_id = controlOf(externalId).value.trim();
      if (controlOf(sessionName).value.trim()) a.session_name = controlOf(sessionName).value.trim();
      if (existing && existing.auth.type === 'role_arn' && a.role_arn === (existing.auth.role_arn || '') &&
        (a.external_id || '') === (existing.auth.external_id || '') && (a.session_name || '') === (existing.auth.session_name || '')) return null;
      return a;
    },
  };
}

function regionOptions(p, selected) {
  return (p ? p.regions || [] : []).map((r) => ({ value: r, label: r, selected: r === selected }));
}

function testResult(r) {
  return r.ok
    ? h('p', { class: 'form-ok', role: 'status' }, `These credentials work: ${r.models_visible} models visible.`)
    : h('p', { class: 'form-error', role: 'alert' }, `These credentials do not work (${r.cause}): ${r.message}`);
}

async function addCredential(providers) {
  const usable = providers.filter((p) => p.status === 'available');
  const options = providers.map((p) => ({ value: p.id, label: p.status === 'available' ? p.name : `${p.name} (coming soon)`, disabled: p.status !== 'available' }));
  const first = usable[0];
  const nameField = field({ label: 'Name', name: 'name', required: true, hint: '1-64 letters, digits, “-”, “_” or “.”, e.g. prod-bedrock-us-east.' });
  const providerField = field({ label: 'Provider', name: 'provider', type: 'select', options, value: first ? first.id : '' });
  const regionField = field({ label: 'Region', name: 'region', type: 'select', options: regionOptions(first, first && first.regions ? first.regions[0] : '') });
  const authHolder = h('div');
  let auth = authForm(first ? first.auth_types : ['access_keys'], null);
  authHolder.append(auth.element);
  controlOf(providerField).addEventListener('change', () => {
    const p = providers.find((x) => x.id === controlOf(providerField).value);
    clear(controlOf(regionField)).append(...regionOptions(p, '').map((o) => h('option', { value: o.value }, o.label)));
    auth = authForm(p ? p.auth_types : [], null);
    clear(authHolder).append(auth.element);
  });
  const resultBox = h('div', { 'aria-live': 'polite' });
  const test = h('button', { type: 'button', class: 'btn' }, 'Test');
  const body = () => ({ name: controlOf(nameField).value.trim(), provider: controlOf(providerField).value, region: controlOf(regionField).value, auth: auth.value() });
  test.addEventListener('click', async () => {
    const { provider, region, auth: a } = body();
    clear(resultBox).append(h('p', { class: 'muted' }, 'Testing…'));
    test.disabled = true;
    try {
      clear(resultBox).append(testResult(await api('POST', '/admin/v1/credentials/test', { provider, region, auth: a })));
    } catch (e) {
      clear(resultBox).append(h('p', { class: 'form-error', role: 'alert' }, e.message));
    } finally {
      test.disabled = false;
    }
  });
  const result = await formDialog({
    title: 'Add credentials',
    fields: [nameField, providerField, regionField, authHolder, resultBox],
    submitLabel: 'Save credentials',
    extraActions: [test],
    submit: () => api('POST', '/admin/v1/credentials', body()),
  });
  if (result) toast(`Saved credentials ${result.name}.`);
  return !!result;
}

async function editCredential(c, providers) {
  const p = providers.find((x) => x.id === c.provider);
  const nameField = field({ label: 'Name', name: 'name', value: c.name, required: true });
  const regionField = field({ label: 'Region', name: 'region', type: 'select', options: regionOptions(p, c.region), value: c.region });
  const auth = authForm(p ? p.auth_types : [c.auth.type], c);
  const current = c.auth.type === 'access_keys'
    ? `Access key ${c.auth.access_key_id || ''}, secret ${c.auth.secret_set ? 'set' : 'not set'}.`
    : `Role ${c.auth.role_arn || ''}.`;
  const result = await formDialog({
    title: `Edit ${c.name}`,
    intro: `${current} Enter new values to rotate the secret; every model using these credentials switches at its next request and is checked again at once.`,
    fields: [nameField, regionField, auth.element],
    submit: () => {
      const patch = {};
      const name = controlOf(nameField).value.trim();
      if (name !== c.name) patch.name = name;
      if (controlOf(regionField).value !== c.region) patch.region = controlOf(regionField).value;
      const a = auth.value();
      if (a) patch.auth = a;
      if (Object.keys(patch).length === 0) return Promise.resolve(c);
      return api('PATCH', `/admin/v1/credentials/${seg(c.id)}`, patch);
    },
  });
  if (result) toast(`Saved ${result.name || c.name}.`);
  return !!result;
}

async function testSaved(c) {
  const box = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Testing…'));
  const closeBtn = h('button', { type: 'button', class: 'btn btn-primary' }, 'Close');
  const dlg = openDialog({ title: `Test ${c.name}`, content: [box], actions: [closeBtn] });
  closeBtn.addEventListener('click', () => dlg.close());
  try {
    clear(box).append(testResult(await api('POST', `/admin/v1/credentials/${seg(c.id)}/test`)));
  } catch (e) {
    clear(box).append(h('p', { class: 'form-error', role: 'alert' }, e.message));
  }
}

function deleteCredential(c) {
  const models = c.models || [];
  const details = models.length
    ? h('div', { class: 'cause warn' }, h('p', {}, `In use by ${models.length} model${models.length === 1 ? '' : 's'}:`),
      h('ul', {}, models.map((m) => h('li', {}, h('code', {}, m)))),
      h('p', { class: 'small' }, 'Deleting is blocked while models use these credentials: switch or delete them first.'))
    : null;
  return confirmDialog({
    title: `Delete ${c.name}?`,
    message: 'The encrypted secret is destroyed. This cannot be undone.',
    details,
    action: () => api('DELETE', `/admin/v1/credentials/${seg(c.id)}`),
  }).then((done) => { if (done) toast(`Deleted ${c.name}.`); return done; });
}
