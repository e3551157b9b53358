// The console's shell: who is signed in (GET /admin/v1/me), the role-aware navigation, and a
// hash router (#/models, #/models/<id>, ...) that renders one page at a time into <main>.
// Pages get a context whose signal aborts and whose timers stop when the user navigates away.
import { api, onUnauthorized } from './api.js';
import { h, clear, toast } from './ui.js';
import { renderSignIn } from './pages/signin.js';
import { renderModels, renderModelDetail } from './pages/models.js';
import { renderAddModel } from './pages/add_model.js';
import { renderCredentials } from './pages/credentials.js';
import { renderTeams } from './pages/teams.js';
import { renderUsers } from './pages/users.js';
import { renderKeys } from './pages/keys.js';
import { renderPlayground } from './pages/playground.js';
import { renderAudit } from './pages/audit.js';

// Navigation. `need` names a permission of GET /admin/v1/me; pages without one are for everyone.
// The nav only hides what a role cannot use: the server enforces it (a page opened anyway
// calls endpoints that answer 403, and shows that answer).
const NAV = [
  { group: 'Models & Guardrails', items: [
    { hash: '#/models', label: 'Models', need: 'manage_providers' },
    { hash: '#/credentials', label: 'LLM Credentials', need: 'manage_providers' },
  ] },
  { group: 'Build', items: [
    { hash: '#/playground', label: 'Model playground', need: 'use_models' },
  ] },
  { group: 'Organization', items: [
    { hash: '#/teams', label: 'Teams', need: 'manage_users' },
    { hash: '#/users', label: 'Users', need: 'manage_users' },
    { hash: '#/audit', label: 'Audit log', need: 'read_audit' },
  ] },
  { group: 'Account', items: [
    { hash: '#/keys', label: 'API keys' },
  ] },
];

const ROUTES = [
  { re: /^#\/models$/, render: renderModels, nav: '#/models' },
  { re: /^#\/add-model$/, render: renderAddModel, nav: '#/models' },
  { re: /^#\/models\/(.+)$/, render: renderModelDetail, nav: '#/models', params: ['id'] },
  { re: /^#\/credentials$/, render: renderCredentials, nav: '#/credentials' },
  { re: /^#\/teams$/, render: renderTeams, nav: '#/teams' },
  { re: /^#\/users$/, render: renderUsers, nav: '#/users' },
  { re: /^#\/keys$/, render: renderKeys, nav: '#/keys' },
  { re: /^#\/playground$/, render: renderPlayground, nav: '#/playground' },
  { re: /^#\/audit$/, render: renderAudit, nav: '#/audit' },
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const navToggle = document.getElementById('nav-toggle');
const account = document.getElementById('account');
const who = document.getElementById('who');

let me = null;
let page = null;  // {controller, timers}

const allowed = (item) => !item.need || (me && me.permissions && me.permissions[item.need]);

function homeHash() {
  for (const g of NAV) for (const it of g.items) if (allowed(it)) return it.hash;
  return '#/keys';
}

function renderNav(currentNav) {
  clear(nav);
  for (const g of NAV) {
    const items = g.items.filter(allowed);
    if (items.length === 0) continue;
    const headingId = `nav-${g.group.replace(/\W+/g, '-').toLowerCase()}`;
    nav.append(h('h2', { id: headingId }, g.group), h('ul', { 'aria-labelledby': headingId },
      items.map((it) => h('li', {}, h('a', { href: it.hash, 'aria-current': it.hash === currentNav ? 'page' : null,
        onclick: () => collapseNav() }, it.label)))));
  }
}

function isNarrow() { return window.matchMedia('(max-width: 760px)').matches; }
function collapseNav() {
  if (!isNarrow()) return;
  nav.classList.add('collapsed');
  navToggle.setAttribute('aria-expanded', 'false');
}
// Entering phone width (rotation, resize) folds the navigation away behind the Menu button.
window.matchMedia('(max-width: 760px)').addEventListener('change', (e) => {
  if (e.matches) { nav.classList.add('collapsed'); navToggle.setAttribute('aria-expanded', 'false'); }
});
navToggle.addEventListener('click', () => {
  const open = nav.classList.toggle('collapsed') === false;
  navToggle.setAttribute('aria-expanded', String(open));
});

function stopPage() {
  if (!page) return;
  page.controller.abort();
  for (const t of page.timers) clearTimeout(t);
  page = null;
}

function pageContext(params) {
  const controller = new AbortController();
  const timers = new Set();
  page = { controller, timers };
  const ctx = {
    me, params, main,
    signal: controller.signal,
    navigate: (hash) => { location.hash = hash; },
    // Runs fn every `ms` (after the previous run finished) until the user leaves the page.
    every(ms, fn) {
      const tick = async () => {
        if (controller.signal.aborted) return;
        try { await fn(); } catch (e) { if (e.name !== 'AbortError') console.warn(e); }
        if (!controller.signal.aborted) timers.add(setTimeout(tick, ms));
      };
      timers.add(setTimeout(tick, ms));
    },
    refreshMe: loadMe,
  };
  return ctx;
}

async function route() {
  if (!me) return;
  const hash = location.hash || '';
  const r = ROUTES.find((x) => x.re.test(hash));
  if (!r) { location.replace(homeHash()); return; }
  stopPage();
  const m = hash.match(r.re);
  const params = {};
  (r.params || []).forEach((name, i) => { params[name] = decodeURIComponent(m[i + 1]); });
  renderNav(r.nav);
  clear(main);
  const ctx = pageContext(params);
  try {
    await r.render(ctx);
  } catch (e) {
    if (e.name === 'AbortError') return;
    main.append(h('div', { class: 'panel', role: 'alert' }, h('h2', {}, 'Something went wrong'), h('p', {}, e.message)));
  }
  const heading = main.querySelector('h1');
  if (heading && !main.contains(document.activeElement)) heading.focus();
}

function showSignedIn() {
  who.textContent = `${me.name || me.email || 'Signed in'} · ${me.role}`;
  account.hidden = false;
  nav.hidden = false;
  navToggle.hidden = false;
  if (isNarrow()) { nav.classList.add('collapsed'); navToggle.setAttribute('aria-expanded', 'false'); }
}

function showSignIn(message) {
  stopPage();
  me = null;
  account.hidden = true;
  nav.hidden = true;
  navToggle.hidden = true;
  clear(nav);
  clear(main);
  renderSignIn(main, {
    message,
    onSignedIn: (body) => {
      me = body;
      showSignedIn();
      const target = location.hash && ROUTES.some((x) => x.re.test(location.hash)) ? location.hash : homeHash();
      if (location.hash === target) route(); else location.hash = target;
    },
  });
}

async function loadMe() {
  me = await api('GET', '/admin/v1/me', undefined, { quiet401: true });
  showSignedIn();
  return me;
}

onUnauthorized((err) => {
  if (!me) return;
  showSignIn(err.message || 'Your session has ended. Sign in again.');
});

document.getElementById('sign-out').addEventListener('click', async () => {
  try {
    await api('DELETE', '/admin/v1/session');
  } catch (e) {
    toast(`Sign-out failed: ${e.message}`);
    return;
  }
  showSignIn('You are signed out.');
});

window.addEventListener('hashchange', route);

(async function boot() {
  try {
    await loadMe();
    route();
  } catch (e) {
    if (e.status === 401) showSignIn();
    else {
      clear(main);
      main.append(h('div', { class: 'panel', role: 'alert' }, h('h2', {}, 'The gateway could not be reached'), h('p', {}, e.message)));
    }
  }
})();
