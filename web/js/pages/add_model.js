// Models › + Add model: provider, credentials (saved, or access keys / role ARN inline),
// region, the models to enable from the provider's live catalog, and team access; one
// POST /admin/v1/models adds them all.
import { api, seg } from '../api.js';
import {
  h, append, clear, field, controlOf, pageHead, badge, clearErrors, showError, toast, errorPanel, uid,
} from '../ui.js';
import { teamAccessPicker } from '../pickers.js';

export async function renderAddModel(ctx) {
  const { signal } = ctx;
  let providers;
  let credentials;
  try {
    [providers, credentials] = await Promise.all([
      api('GET', '/admin/v1/providers', undefined, { signal }).then((b) => b.providers),
      api('GET', '/admin/v1/credentials', undefined, { signal }).then((b) => b.credentials),
    ]);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    ctx.main.append(pageHead('Add models'), errorPanel(e));
    return;
  }
  const picker = await teamAccessPicker(undefined, { signal });

  const form = h('form', { novalidate: true, class: 'add-model' });
  ctx.main.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/models' }, 'Models'), ' › Add models'),
    pageHead('Add models', 'Enable models from a provider’s live catalog and choose who may use them.'),
    form);

  // 1. Provider ------------------------------------------------------------------------------
  const providerName = uid('provider');
  const providerSet = h('fieldset', { 'data-param': 'provider' }, h('legend', {}, '1. Provider'),
    h('div', { class: 'provider-cards' }, providers.map((p) => {
      const available = p.status === 'available';
      const id = uid('prov');
      return h('div', { class: `provider-card${available ? '' : ' disabled'}` },
        h('input', { type: 'radio', name: providerName, id, value: p.id, disabled: !available }),
        h('label', { for: id }, h('strong', {}, p.name), h('br'),
          available ? h('span', { class: 'small muted' }, (p.auth_types || []).map(authLabel).join(' or ')) : badge('Coming soon', 'info')));
    })),
    h('div', { class: 'field-error', hidden: true }));
  form.append(providerSet);
  const selectedProvider = () => {
    const r = providerSet.querySelector('input:checked');
    return r ? providers.find((p) => p.id === r.value) : null;
  };

  // 2. Credentials ---------------------------------------------------------------------------
  const modeName = uid('credmode');
  const savedSelect = field({ label: 'Saved credentials', name: 'credential', type: 'select', options: [] });
  const akId = field({ label: 'Access key ID', name: 'access_key_id', param: 'auth.access_key_id', placeholder: 'AKIA…' });
  const akSecret = field({ label: 'Secret access key', name: 'secret_access_key', param: 'auth.secret_access_key', type: 'password', hint: 'Write-only: stored encrypted with the models, never shown again.' });
  const akToken = field({ label: 'Session token (optional)', name: 'session_token', param: 'auth.session_token', type: 'password' });
  const roleArn = field({ label: 'Role ARN', name: 'role_arn', param: 'auth.role_arn', placeholder: 'arn:aws:iam::123456789012:role/name' });
  const externalId = field({ label: 'External ID (optional)', name: 'external_id', param: 'auth.external_id' });
  const sessionName = field({ label: 'Session name (optional)', name: 'session_name', param: 'auth.session_name' });
  const modes = [
    { value: 'saved', label: 'Use saved credentials', body: h('div', {}, savedSelect) },
    { value: 'access_keys', label: 'Enter access keys', body: h('div', {}, akId, akSecret, akToken) },
    { value: 'role_arn', label: 'Use a role ARN', body: h('div', {}, roleArn, externalId, sessionName, h('p', { class: 'hint' }, 'The gateway assumes this role with its own AWS identity.')) },
  ];
  const modeRadios = modes.map((m) => h('input', { type: 'radio', name: modeName, value: m.value, id: uid('mode') }));
  const credSet = h('fieldset', { 'data-param': 'auth', disabled: true }, h('legend', {}, '2. Credentials'),
    h('div', { class: 'choices-inline' }, modes.map((m, i) => h('div', { class: 'choice' }, modeRadios[i], h('label', { for: modeRadios[i].id }, m.label)))),
    modes.map((m) => { m.body.hidden = true; return m.body; }),
    h('div', { class: 'field-error', hidden: true }));
  form.append(credSet);
  const mode = () => (modeRadios.find((r) => r.checked) || {}).value;

  // 3. Region --------------------------------------------------------------------------------
  const regionField = field({ label: 'Region', name: 'region', type: 'select', options: [] });
  const loadButton = h('button', { type: 'button', class: 'btn' }, 'Show available models');
  const regionSet = h('fieldset', { disabled: true }, h('legend', {}, '3. Region'), regionField, h('div', { class: 'btn-row' }, loadButton));
  form.append(regionSet);

  // 4. Models --------------------------------------------------------------------------------
  const search = field({ label: 'Search', name: 'catalog_search', type: 'search', placeholder: 'Name or model ID' });
  const vendor = field({ label: 'Vendor', name: 'catalog_vendor', type: 'select', options: [{ value: '', label: 'All vendors' }] });
  const streamingId = uid('stream');
  const streamingOnly = h('input', { type: 'checkbox', id: streamingId });
  const selectedCount = h('p', { class: 'small muted', role: 'status' }, '');
  const catalogBox = h('div', { class: 'catalog' }, h('p', { class: 'muted' }, 'Choose credentials and a region, then “Show available models”.'));
  const modelsSet = h('fieldset', { 'data-param': 'models', disabled: true }, h('legend', {}, '4. Models'),
    h('div', { class: 'filters' }, search, vendor, h('div', { class: 'choice' }, streamingOnly, h('label', { for: streamingId }, 'Streaming only'))),
    catalogBox, selectedCount, h('div', { class: 'field-error', hidden: true }));
  form.append(modelsSet);

  // 5. Team access ---------------------------------------------------------------------------
  const accessSet = h('div', {}, picker.element);
  picker.element.querySelector('legend').textContent = '5. Team access';
  form.append(accessSet);

  const submit = h('button', { type: 'submit', class: 'btn btn-primary', disabled: true }, 'Add models');
  const cancel = h('a', { class: 'btn', href: '#/models' }, 'Cancel');
  const submitRow = h('div', { class: 'btn-row' }, submit, cancel);
  form.append(submitRow);

  // Behaviour --------------------------------------------------------------------------------
  let catalog = [];
  const checked = new Set();

  function syncProvider() {
    const p = selectedProvider();
    credSet.disabled = !p;
    regionSet.disabled = !p;
    if (!p) return;
    const saved = credentials.filter((c) => c.provider === p.id);
    const sel = controlOf(savedSelect);
    clear(sel).append(...saved.map((c) => h('option', { value: c.id }, `${c.name} (${c.region}, ${authLabel(c.auth.type)})`)));
    modeRadios[0].disabled = saved.length === 0;
    const savedLabel = modeRadios[0].nextElementSibling;
    savedLabel.textContent = saved.length ? 'Use saved credentials' : 'Use saved credentials (none saved yet)';
    modeRadios[1].disabled = !(p.auth_types || []).includes('access_keys');
    modeRadios[2].disabled = !(p.auth_types || []).includes('role_arn');
    if (!mode() || modeRadios.find((r) => r.checked).disabled) {
      const firstEnabled = modeRadios.find((r) => !r.disabled);
      if (firstEnabled) firstEnabled.checked = true;
    }
    const reg = controlOf(regionField);
    clear(reg).append(...(p.regions || []).map((r) => h('option', { value: r }, r)));
    syncMode();
  }
  function syncMode() {
    modes.forEach((m, i) => { m.body.hidden = !modeRadios[i].checked; });
    if (mode() === 'saved') {
      const c = credentials.find((x) => x.id === controlOf(savedSelect).value);
      if (c) controlOf(regionField).value = c.region;
    }
    resetCatalog();
  }
  function resetCatalog() {
    catalog = [];
    checked.clear();
    modelsSet.disabled = true;
    clear(catalogBox).append(h('p', { class: 'muted' }, 'Choose credentials and a region, then “Show available models”.'));
    syncSubmit();
  }
  function syncSubmit() {
    submit.disabled = checked.size === 0;
    submit.textContent = checked.size === 0 ? 'Add models' : `Add ${checked.size} model${checked.size === 1 ? '' : 's'}`;
    selectedCount.textContent = catalog.length ? `${checked.size} selected` : '';
  }

  function authBody() {
    if (mode() === 'access_keys') {
      const a = { type: 'access_keys', access_key_id: controlOf(akId).value.trim(), secret_access_key: controlOf(akSecret).value };
      if (controlOf(akToken).value) a.session_token = controlOf(akToken).value;
      return a;
    }
    const a = { type: 'role_arn', role_arn: controlOf(roleArn).value.trim() };
    if (controlOf(externalId).value.trim()) a.external_id = controlOf(externalId).value.trim();
    if (controlOf(sessionName).value.trim()) a.session_name = controlOf(sessionName).value.trim();
    return a;
  }

  async function loadCatalog() {
    clearErrors(form);
    const p = selectedProvider();
    const region = controlOf(regionField).value;
    loadButton.disabled = true;
    clear(catalogBox).append(h('p', { class: 'muted' }, 'Asking the provider for its catalog…'));
    try {
      let body;
      if (mode() === 'saved') {
        body = await api('GET', `/admin/v1/providers/${seg(p.id)}/catalog?region=${encodeURIComponent(region)}&credential=${encodeURIComponent(controlOf(savedSelect).value)}`, undefined, { signal });
      } else {
        body = await api('POST', `/admin/v1/providers/${seg(p.id)}/catalog`, { region, auth: authBody() }, { signal });
      }
      catalog = body.models || [];
      checked.clear();
      const vendors = [...new Set(catalog.map((m) => m.vendor).filter(Boolean))].sort();
      clear(controlOf(vendor)).append(h('option', { value: '' }, 'All vendors'), ...vendors.map((v) => h('option', { value: v }, v)));
      modelsSet.disabled = false;
      renderCatalog();
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      clear(catalogBox).append(h('p', { class: 'muted' }, 'The catalog could not be loaded.'));
      showError(form, e.param ? e : { ...e, message: e.message, param: mode() === 'saved' ? 'credential' : 'auth' });
    } finally {
      loadButton.disabled = false;
    }
  }

  function renderCatalog() {
    const q = controlOf(search).value.trim().toLowerCase();
    const v = controlOf(vendor).value;
    const rows = catalog.filter((m) => (!q || `${m.name} ${m.provider_model_id}`.toLowerCase().includes(q)) &&
      (!v || m.vendor === v) && (!streamingOnly.checked || m.streaming));
    if (catalog.length === 0) { clear(catalogBox).append(h('p', { class: 'muted' }, 'The provider offers no models here.')); syncSubmit(); return; }
    const tbody = h('tbody', {}, rows.map((m) => {
      const id = uid('cat');
      const box = h('input', { type: 'checkbox', id, value: m.provider_model_id, checked: checked.has(m.provider_model_id), disabled: m.added,
        'aria-label': `Select ${m.name} (${m.provider_model_id})` });
      box.addEventListener('change', () => { if (box.checked) checked.add(m.provider_model_id); else checked.delete(m.provider_model_id); syncSubmit(); });
      return h('tr', { 'data-provider-model-id': m.provider_model_id },
        h('td', { class: 'select-cell', 'data-label': 'Select' }, box),
        h('td', { 'data-label': 'Name' }, h('div', { class: 'cell' }, h('label', { for: id }, m.name || m.provider_model_id),
          m.added ? [' ', badge('Already added', 'info')] : null)),
        h('td', { 'data-label': 'Model ID' }, h('code', { class: 'break' }, m.provider_model_id)),
        h('td', { 'data-label': 'Vendor' }, m.vendor || '—'),
        h('td', { 'data-label': 'Output' }, (m.output_modalities || []).map((x) => x.toLowerCase()).join(', ') || '—'),
        h('td', { 'data-label': 'Streaming' }, m.streaming ? 'Yes' : 'No'),
        h('td', { 'data-label': 'Lifecycle' }, m.lifecycle === 'LEGACY' ? badge('LEGACY', 'warn') : (m.lifecycle || '—')));
    }));
    append(clear(catalogBox), [h('div', { class: 'table-wrap' }, h('table', { class: 'responsive' },
      h('caption', { class: 'sr-only' }, 'Provider catalog'),
      h('thead', {}, h('tr', {}, ['Select', 'Name', 'Model ID', 'Vendor', 'Output', 'Streaming', 'Lifecycle'].map((c) => h('th', { scope: 'col' }, c)))),
      tbody)),
    rows.length === 0 ? h('p', { class: 'muted' }, 'No model matches the filters.') : null]);
    syncSubmit();
  }

  providerSet.addEventListener('change', syncProvider);
  modeRadios.forEach((r) => r.addEventListener('change', syncMode));
  controlOf(savedSelect).addEventListener('change', syncMode);
  controlOf(regionField).addEventListener('change', resetCatalog);
  loadButton.addEventListener('click', loadCatalog);
  controlOf(search).addEventListener('input', renderCatalog);
  controlOf(vendor).addEventListener('change', renderCatalog);
  streamingOnly.addEventListener('change', renderCatalog);
  // Enter in the search box filters; it must not submit the form.
  controlOf(search).addEventListener('keydown', (e) => { if (e.key === 'Enter') e.preventDefault(); });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const p = selectedProvider();
    const body = {
      provider: p.id,
      region: controlOf(regionField).value,
      models: [...checked].map((id) => ({ provider_model_id: id })),
      team_access: picker.value(),
    };
    if (mode() === 'saved') body.credential = controlOf(savedSelect).value;
    else body.auth = authBody();
    submit.disabled = true;
    try {
      const r = await api('POST', '/admin/v1/models', body, { signal });
      toast(`Added ${r.models.length} model${r.models.length === 1 ? '' : 's'}.`);
      ctx.navigate('#/models');
    } catch (err) {
      if (err.name === 'AbortError') return;
      showError(form, err, submitRow);
      syncSubmit();
    }
  });

  // With a single available provider, start there.
  const available = providers.filter((p) => p.status === 'available');
  if (available.length === 1) {
    providerSet.querySelector(`input[value="${available[0].id}"]`).checked = true;
    syncProvider();
  }
}

function authLabel(t) {
  return { access_keys: 'access keys', role_arn: 'role ARN', api_key: 'API key' }[t] || t;
}
