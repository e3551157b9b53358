// Small DOM helpers shared by the pages: element building (text only, never HTML strings),
// form fields with error slots, modal dialogs that trap focus, confirmations, row menus,
// tables that stack on phones, badges and toasts.

let idCounter = 0;
export const uid = (prefix = 'id') => `${prefix}-${++idCounter}`;

// h('button', {class: 'btn', onclick: fn, 'aria-label': 'x'}, 'text', child, [more])
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'selected' || k === 'hidden' || k === 'required' || k === 'multiple') el[k] = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) { while (el.firstChild) el.firstChild.remove(); return el; }

// ---------------------------------------------------------------------------------------------
// Badges, times

export function badge(text, kind = '') {
  return h('span', { class: `badge${kind ? ' badge-' + kind : ''}` }, text);
}

const STATUS = {
  healthy: ['Healthy', 'ok'],
  unhealthy: ['Unhealthy', 'bad'],
  unknown: ['Unknown', ''],
};
export function statusBadge(status) {
  const [text, kind] = STATUS[status] || STATUS.unknown;
  return badge(text, kind);
}

export function timeAgo(iso) {
  if (!iso) return 'Never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((Date.now() - t) / 1000);
  if (s < -5) return `in ${formatSpan(-s)}`;
  if (s < 5) return 'just now';
  return `${formatSpan(s)} ago`;
}
function formatSpan(s) {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}
export function timeEl(iso) {
  if (!iso) return h('span', { class: 'muted' }, 'Never');
  return h('time', { datetime: iso, title: new Date(iso).toLocaleString() }, timeAgo(iso));
}
export function dateText(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

// ---------------------------------------------------------------------------------------------
// Toasts

export function toast(message) {
  const region = document.getElementById('toasts');
  const t = h('div', { class: 'toast' }, message);
  region.append(t);
  while (region.children.length > 3) region.firstChild.remove();
  setTimeout(() => t.remove(), 4000);
}

// ---------------------------------------------------------------------------------------------
// Form fields and API errors next to them

// A labelled control. `param` is the API field path the control stands for (error.param).
// type: text|password|email|search|select|textarea. options: [{value, label, disabled}].
export function field({ label, name, type = 'text', param, value, placeholder, hint, required,
  options, autocomplete, rows, disabled, inputmode }) {
  const id = uid('f');
  const hintId = hint ? `${id}-hint` : null;
  const errId = `${id}-err`;
  let control;
  const common = {
    id, name, 'data-param': param || name, required, disabled,
    'aria-describedby': [hintId, errId].filter(Boolean).join(' '),
  };
  if (type === 'select') {
    control = h('select', common, (options || []).map((o) =>
      h('option', { value: o.value, disabled: o.disabled, selected: o.value === value }, o.label)));
    if (value !== undefined) control.value = value;
  } else if (type === 'textarea') {
    control = h('textarea', { ...common, rows: rows || 3, placeholder }, value || '');
  } else {
    control = h('input', {
      ...common, type, value: value ?? '', placeholder, inputmode,
      autocomplete: autocomplete || (type === 'password' ? 'new-password' : 'off'),
      spellcheck: 'false',
    });
  }
  return h('div', { class: 'field' },
    // Optional fields say "(optional)" in their label; the others are required.
    h('label', { for: id }, label),
    control,
    hint ? h('div', { class: 'hint', id: hintId }, hint) : null,
    h('div', { class: 'field-error', id: errId, hidden: true }));
}

// The control inside a field() wrapper.
export const controlOf = (fieldEl) => fieldEl.querySelector('input, select, textarea');

export function clearErrors(container) {
  for (const el of container.querySelectorAll('[aria-invalid="true"]')) el.removeAttribute('aria-invalid');
  for (const el of container.querySelectorAll('.field-error')) { el.textContent = ''; el.hidden = true; }
  for (const el of container.querySelectorAll('.form-error')) el.remove();
}

// The element standing for `param`: exact data-param, else the longest one that is a prefix
// of it ("team_access.teams[0]" -> "team_access").
function findParamTarget(container, param) {
  if (!param) return null;
  let best = null;
  let bestLen = -1;
  for (const el of container.querySelectorAll('[data-param]')) {
    const p = el.dataset.param;
    if (p === param) return el;
    if ((param.startsWith(p + '.') || param.startsWith(p + '[')) && p.length > bestLen) {
      best = el; bestLen = p.length;
    }
  }
  return best;
}

// Shows an API error next to the field named by error.param, or at the top of `container`
// (after `anchor` when given). Focuses the field.
export function showError(container, err, anchor) {
  const message = err && err.message ? err.message : String(err);
  const target = findParamTarget(container, err && err.param);
  if (target) {
    const wrapper = target.closest('.field, fieldset, [data-error-slot]');
    let slot = wrapper && wrapper.querySelector(':scope > .field-error');
    if (!slot && wrapper) { slot = h('div', { class: 'field-error' }); wrapper.append(slot); }
    if (slot) {
      slot.textContent = message;
      slot.hidden = false;
      slot.setAttribute('role', 'alert');
    }
    if (target.matches('input, select, textarea')) target.setAttribute('aria-invalid', 'true');
    const focusable = target.matches('input, select, textarea, button') ? target : target.querySelector('input, select, textarea, button');
    if (focusable) focusable.focus();
    return;
  }
  const box = h('div', { class: 'form-error', role: 'alert' }, message);
  if (anchor) anchor.after(box); else container.prepend(box);
}

// ---------------------------------------------------------------------------------------------
// Dialogs

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

// A modal dialog. Returns {dialog, body, actions, close}. Focus moves into the dialog, Tab
// cycles inside it, Escape (or close()) closes it and focus returns to where it was.
export function openDialog({ title, content = [], actions = [], onClose, wide = false }) {
  const opener = document.activeElement;
  const openerKey = opener && opener !== document.body ? focusKey(opener) : null;
  const titleId = uid('dlg');
  const body = h('div', { class: 'dialog-body' }, h('h2', { id: titleId }, title), content);
  const actionBar = h('div', { class: 'dialog-actions' }, actions);
  const dialog = h('dialog', { 'aria-labelledby': titleId, class: wide ? 'wide' : '' }, body, actionBar);
  let closed = false;
  const close = (result) => {
    if (closed) return;
    closed = true;
    if (dialog.open) dialog.close();
    dialog.remove();
    // A periodic refresh may have replaced the opener meanwhile: then focus its equivalent.
    let back = opener && opener.isConnected ? opener : null;
    if (!back && openerKey) back = [...document.querySelectorAll(opener.tagName)].find((el) => focusKey(el) === openerKey) || null;
    if (back && typeof back.focus === 'function') back.focus();
    if (onClose) onClose(result);
  };
  dialog.addEventListener('cancel', (e) => { e.preventDefault(); close(undefined); });
  dialog.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); close(undefined); return; }
    if (e.key !== 'Tab') return;
    const items = [...dialog.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null || el === document.activeElement);
    if (items.length === 0) { e.preventDefault(); return; }
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) { e.preventDefault(); first.focus(); }
  });
  document.body.append(dialog);
  dialog.showModal();
  const firstField = dialog.querySelector('input:not([type=hidden]):not([disabled]), select, textarea') || dialog.querySelector(FOCUSABLE);
  if (firstField) firstField.focus();
  return { dialog, body, actions: actionBar, close };
}

// A form in a dialog: `fields` are field() nodes (or any nodes); `submit(form)` returns a
// promise; an ApiError it throws is shown next to its field and the dialog stays open.
// Resolves with submit's result, or undefined when cancelled.
export function formDialog({ title, intro, fields, submitLabel = 'Save', danger = false, submit, extraActions = [] }) {
  return new Promise((resolve) => {
    const form = h('form', { novalidate: true }, intro ? h('p', {}, intro) : null, fields);
    const submitBtn = h('button', { type: 'submit', class: `btn ${danger ? 'btn-danger' : 'btn-primary'}` }, submitLabel);
    const cancelBtn = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    submitBtn.setAttribute('form', form.id = uid('form'));
    const dlg = openDialog({ title, content: [form], actions: [...extraActions, cancelBtn, submitBtn], onClose: (r) => resolve(r) });
    cancelBtn.addEventListener('click', () => dlg.close(undefined));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(dlg.dialog);
      submitBtn.disabled = true;
      try {
        const result = await submit(form, dlg);
        dlg.close(result === undefined ? true : result);
      } catch (err) {
        showError(form, err);
      } finally {
        submitBtn.disabled = false;
      }
    });
  });
}

// Asks before a destructive action. `action()` runs on confirm; its error is shown in the
// dialog. Resolves true when done, false when cancelled.
export function confirmDialog({ title, message, confirmLabel = 'Delete', action, details }) {
  return formDialog({
    title,
    fields: [h('p', {}, message), details || null],
    submitLabel: confirmLabel,
    danger: true,
    submit: async () => { await action(); return true; },
  }).then((r) => r === true);
}

// ---------------------------------------------------------------------------------------------
// Row menu: a button that opens a menu of actions (arrow keys move, Escape closes).

export function rowMenu(label, items) {
  const menuId = uid('menu');
  const button = h('button', { type: 'button', class: 'btn btn-small', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-controls': menuId, 'aria-label': label }, '⋯');
  const menu = h('div', { class: 'menu', role: 'menu', id: menuId, hidden: true });
  const wrap = h('div', { class: 'menu-wrap' }, button, menu);
  const buttons = items.filter(Boolean).map((it) => {
    const b = h('button', { type: 'button', role: 'menuitem', class: it.danger ? 'danger' : '', tabindex: '-1' }, it.label);
    // Focus goes back to the menu button first, so a dialog the action opens returns there.
    b.addEventListener('click', () => { closeMenu(true); it.onSelect(); });
    menu.append(b);
    return b;
  });
  const onDocClick = (e) => { if (!wrap.contains(e.target)) closeMenu(false); };
  function openMenu() {
    menu.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    document.addEventListener('click', onDocClick, true);
    if (buttons[0]) buttons[0].focus();
  }
  function closeMenu(refocus) {
    if (menu.hidden) return;
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('click', onDocClick, true);
    if (refocus) button.focus();
  }
  button.addEventListener('click', () => (menu.hidden ? openMenu() : closeMenu(true)));
  button.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') { e.preventDefault(); openMenu(); }
  });
  menu.addEventListener('keydown', (e) => {
    const i = buttons.indexOf(document.activeElement);
    if (e.key === 'ArrowDown') { e.preventDefault(); buttons[(i + 1) % buttons.length].focus(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); buttons[(i - 1 + buttons.length) % buttons.length].focus(); }
    else if (e.key === 'Home') { e.preventDefault(); buttons[0].focus(); }
    else if (e.key === 'End') { e.preventDefault(); buttons[buttons.length - 1].focus(); }
    else if (e.key === 'Escape') { e.preventDefault(); closeMenu(true); }
    else if (e.key === 'Tab') closeMenu(false);
  });
  return wrap;
}

// ---------------------------------------------------------------------------------------------
// Tables: columns [{label, render(row) -> node|string, className}]; stacked cards on phones.

export function table({ columns, rows, empty = 'Nothing here yet.', caption, rowAttrs }) {
  if (!rows || rows.length === 0) return h('div', { class: 'table-wrap' }, h('p', { class: 'empty' }, empty));
  const thead = h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.className }, c.label))));
  const tbody = h('tbody', {}, rows.map((r) => h('tr', rowAttrs ? rowAttrs(r) : {},
    // One wrapper per cell: on phones the cell is a two-column grid (label, content).
    columns.map((c) => h('td', { 'data-label': c.label, class: c.className }, h('div', { class: 'cell' }, c.render(r)))))));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'responsive' }, caption ? h('caption', { class: 'sr-only' }, caption) : null, thead, tbody));
}

// Page header: title, optional subtitle and action buttons. The title takes focus after
// navigation (tabindex -1) so keyboard and screen-reader users land on the new page.
export function pageHead(title, subtitle, ...actions) {
  return h('div', { class: 'page-head' },
    h('div', {}, h('h1', { tabindex: '-1' }, title), subtitle ? h('p', { class: 'subtitle' }, subtitle) : null),
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}

// A panel showing an API error for a whole page (e.g. 403 for a role that may not see it).
export function errorPanel(err) {
  const title = err.status === 403 ? 'You do not have access to this page'
    : err.status === 404 ? 'Not found' : 'Something went wrong';
  return h('div', { class: 'panel', role: 'alert' }, h('h2', {}, title), h('p', {}, err.message));
}

// Replaces the content of `holder` with `node`, keeping keyboard focus on the equivalent element
// (same tag, label, link and text) when it was inside: periodic refreshes do not steal focus.
export function replaceKeepingFocus(holder, node) {
  const active = document.activeElement;
  const key = active && holder.contains(active) && active !== holder ? focusKey(active) : null;
  clear(holder).append(node);
  if (!key) return;
  const match = [...holder.querySelectorAll(active.tagName)].find((el) => focusKey(el) === key);
  if (match) match.focus();
}
const focusKey = (el) => [el.tagName, el.getAttribute('aria-label') || '', el.getAttribute('href') || '',
  el.textContent.trim().slice(0, 80)].join('|');
