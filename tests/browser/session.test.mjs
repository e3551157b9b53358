// The web console's server side over real HTTP: static files with their security and caching
// headers, the session endpoints (cookie flags, errors), cookie authentication of the admin API
// and the data plane, the CSRF rule, and sessions dying with their key or user.
//   MODELGATE_BIN=build/dev/modelgate node --test tests/browser/session.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, dumpOnFailure, assertErrorShape } from '../integration/lib/gateway.mjs';

let gw;
before(async () => { gw = await startGateway(); });
after(async () => { await gw.stop(); gw.cleanup(); });

const CSRF = { 'x-modelgate-csrf': '1' };

// Raw fetch: returns {status, headers, body, text}.
async function call(method, path, { headers = {}, body, raw } = {}) {
  const h = { ...headers };
  let payload = raw;
  if (body !== undefined) { payload = JSON.stringify(body); h['content-type'] = 'application/json'; }
  const res = await fetch(gw.url + path, { method, headers: h, body: payload, redirect: 'manual' });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, headers: res.headers, body: json, text };
}

async function signIn(key, extraHeaders = {}) {
  const r = await call('POST', '/admin/v1/session', { headers: { ...CSRF, ...extraHeaders }, body: { api_key: key } });
  assert.equal(r.status, 200, r.text);
  const setCookie = r.headers.get('set-cookie');
  const m = /^mg_session=([^;]+);/.exec(setCookie);
  assert.ok(m, `no session cookie: ${setCookie}`);
  return { cookie: `mg_session=${m[1]}`, token: m[1], setCookie, me: r.body };
}

async function newUser(role, teams = []) {
  const email = `${role}-${Math.random().toString(36).slice(2)}@example.com`;
  const u = await gw.call('POST', '/admin/v1/users', { body: { email, name: `${role} user`, role, teams } });
  assert.equal(u.status, 201, u.text);
  const k = await gw.call('POST', `/admin/v1/users/${u.body.id}/api-keys`, { body: { name: 'browser' } });
  assert.equal(k.status, 201, k.text);
  return { user: u.body, key: k.body.key, keyId: k.body.id };
}

test('the console is served at / with strict security headers, ETag and 304', async (t) => {
  dumpOnFailure(t, gw);
  const index = await call('GET', '/');
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(index.text, /<script type="module" src="\/js\/app.js"><\/script>/);
  const csp = index.headers.get('content-security-policy');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(index.headers.get('x-frame-options'), 'DENY');
  assert.equal(index.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const etag = index.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{24}"$/);

  const again = await call('GET', '/', { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.text, '');
  assert.equal(again.headers.get('etag'), etag);

  const same = await call('GET', '/index.html');
  assert.equal(same.text, index.text);
  for (const [path, type] of [['/js/app.js', 'text/javascript; charset=utf-8'], ['/app.css', 'text/css; charset=utf-8'],
    ['/favicon.svg', 'image/svg+xml'], ['/js/pages/models.js', 'text/javascript; charset=utf-8']]) {
    const r = await call('GET', path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers.get('content-type'), type, path);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
  }
  const head = await fetch(gw.url + '/js/app.js', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');

  assertErrorShape(assert, await call('GET', '/no-such-file.js'), 404, 'route_not_found');
  // Other routes keep their own answers (no catch-all): 405 on a POST-only data-plane path.
  assert.equal((await call('GET', '/v1/chat/completions')).status, 405);
});

test('sign-in: input errors, wrong key, and the cookie it sets', async (t) => {
  dumpOnFailure(t, gw);
  const post = (body, headers = CSRF, raw) => call('POST', '/admin/v1/session', { headers, body, raw });
  assertErrorShape(assert, await post({ api_key: gw.adminKey }, {}), 403, 'csrf_failed');
  assertErrorShape(assert, await post({ api_key: gw.adminKey }, { ...CSRF, origin: 'http://evil.example' }), 403, 'csrf_failed');
  assertErrorShape(assert, await post(undefined, CSRF, '{nope'), 400, 'invalid_json');
  assertErrorShape(assert, await post(undefined, CSRF, '[1]'), 400, 'invalid_json');
  let r = await post({});
  assertErrorShape(assert, r, 400, 'invalid_parameter');
  assert.equal(r.body.error.param, 'api_key');
  r = await post({ api_key: 7 });
  assert.equal(r.body.error.param, 'api_key');
  r = await post({ api_key: gw.adminKey, remember: true });
  assertErrorShape(assert, r, 400, 'invalid_parameter');
  assert.equal(r.body.error.param, 'remember');
  r = await post({ api_key: 'mg_wrong' });
  assertErrorShape(assert, r, 401, 'invalid_api_key');
  assert.equal(r.body.error.param, 'api_key');
  assert.equal(r.headers.get('set-cookie'), null);

  const s = await signIn(gw.adminKey, { origin: gw.url });
  assert.match(s.setCookie, /; HttpOnly/);
  assert.match(s.setCookie, /; SameSite=Strict/);
  assert.match(s.setCookie, /; Path=\//);
  assert.doesNotMatch(s.setCookie, /Secure/, 'plain HTTP: no Secure flag');
  assert.match(s.token, /^mgs_[A-Za-z0-9_-]{43}$/);
  assert.ok(!s.setCookie.includes(gw.adminKey), 'the token is not the API key');
  assert.equal(s.me.role, 'org_admin');
  assert.equal(s.me.permissions.manage_users, true);
  const me = await gw.call('GET', '/admin/v1/me');
  assert.deepEqual(s.me, me.body, 'the me body');

  const tls = await signIn(gw.adminKey, { 'x-forwarded-proto': 'https' });
  assert.match(tls.setCookie, /; Secure/);
  assert.notEqual(tls.token, s.token);
});

test('the session cookie authenticates the admin API and the data plane, behind the CSRF rule', async (t) => {
  dumpOnFailure(t, gw);
  const builder = await newUser('builder');
  const s = await signIn(builder.key);
  const me = await call('GET', '/admin/v1/me', { headers: { cookie: s.cookie } });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.body.id, builder.user.id);
  const models = await call('GET', '/v1/models', { headers: { cookie: `theme=x; ${s.cookie}` } });
  assert.equal(models.status, 200, models.text);
  assert.deepEqual(models.body.data, []);
  // The role still decides.
  assertErrorShape(assert, await call('GET', '/admin/v1/credentials', { headers: { cookie: s.cookie } }), 403, 'permission_denied');

  const create = (headers) => call('POST', '/admin/v1/me/api-keys', { headers: { cookie: s.cookie, ...headers }, body: { name: 'x' } });
  assertErrorShape(assert, await create({}), 403, 'csrf_failed');
  assertErrorShape(assert, await create({ 'x-modelgate-csrf': '0' }), 403, 'csrf_failed');
  assertErrorShape(assert, await create({ ...CSRF, origin: 'http://evil.example' }), 403, 'csrf_failed');
  assertErrorShape(assert, await create({ ...CSRF, origin: 'null' }), 403, 'csrf_failed');
  assert.equal((await create({ ...CSRF, origin: gw.url })).status, 201);
  assert.equal((await create(CSRF)).status, 201);
  assertErrorShape(assert, await call('POST', '/v1/chat/completions', { headers: { cookie: s.cookie }, body: { model: 'x', messages: [] } }), 403, 'csrf_failed');

  // Bearer keys are not affected by the rule.
  const bearer = await call('POST', '/admin/v1/me/api-keys', { headers: { authorization: `Bearer ${builder.key}`, origin: 'http://evil.example' }, body: { name: 'y' } });
  assert.equal(bearer.status, 201, bearer.text);
  // A bad Bearer key is not rescued by a good cookie.
  assertErrorShape(assert, await call('GET', '/admin/v1/me', { headers: { cookie: s.cookie, authorization: 'Bearer mg_wrong' } }), 401, 'invalid_api_key');
  // Without any credential: 401.
  assertErrorShape(assert, await call('GET', '/admin/v1/me', { headers: { cookie: 'mg_session=mgs_forged' } }), 401, 'invalid_api_key');
});

test('a session follows its key: role changes apply, revocation and user deletion end it at once', async (t) => {
  dumpOnFailure(t, gw);
  const u = await newUser('builder');
  const s = await signIn(u.key);
  const get = (path) => call('GET', path, { headers: { cookie: s.cookie } });
  assert.equal((await get('/v1/models')).status, 200);
  assert.equal((await gw.call('PATCH', `/admin/v1/users/${u.user.id}`, { body: { role: 'member' } })).status, 200);
  assertErrorShape(assert, await get('/v1/models'), 403, 'permission_denied');
  assert.equal((await get('/admin/v1/me')).body.role, 'member');

  const revoke = await gw.call('DELETE', `/admin/v1/users/${u.user.id}/api-keys/${u.keyId}`);
  assert.equal(revoke.status, 204, revoke.text);
  assertErrorShape(assert, await get('/admin/v1/me'), 401, 'invalid_api_key');

  const v = await newUser('builder');
  const sv = await signIn(v.key);
  assert.equal((await call('GET', '/admin/v1/me', { headers: { cookie: sv.cookie } })).status, 200);
  assert.equal((await gw.call('DELETE', `/admin/v1/users/${v.user.id}`)).status, 204);
  assertErrorShape(assert, await call('GET', '/admin/v1/me', { headers: { cookie: sv.cookie } }), 401, 'invalid_api_key');
});

test('sign-out forgets the session and expires the cookie', async (t) => {
  dumpOnFailure(t, gw);
  const s = await signIn(gw.adminKey);
  assertErrorShape(assert, await call('DELETE', '/admin/v1/session', { headers: { cookie: s.cookie } }), 403, 'csrf_failed');
  assert.equal((await call('GET', '/admin/v1/me', { headers: { cookie: s.cookie } })).status, 200, 'a refused sign-out keeps the session');
  const out = await call('DELETE', '/admin/v1/session', { headers: { cookie: s.cookie, ...CSRF } });
  assert.equal(out.status, 204);
  assert.match(out.headers.get('set-cookie'), /^mg_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict/);
  assertErrorShape(assert, await call('GET', '/admin/v1/me', { headers: { cookie: s.cookie } }), 401, 'invalid_api_key');
  // Signing out without a session is fine.
  assert.equal((await call('DELETE', '/admin/v1/session', { headers: CSRF })).status, 204);
  // The admin's API key itself still works.
  assert.equal((await gw.call('GET', '/admin/v1/me')).status, 200);
});
