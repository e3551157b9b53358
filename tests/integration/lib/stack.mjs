// The fake AWS plus a real gateway pointed at it, and the admin calls every data-plane suite
// needs (credential, models, teams, users with keys). See gateway.mjs for the gateway process.
import assert from 'node:assert/strict';
import { startFakeAws, DEFAULT_KEY_ID, DEFAULT_SECRET, DEFAULT_ROLE_ARN } from '../../fakes/fake-aws.mjs';
import { startGateway } from './gateway.mjs';

export { DEFAULT_KEY_ID, DEFAULT_SECRET, DEFAULT_ROLE_ARN };

export const accessKeysAuth = () => ({ type: 'access_keys', access_key_id: DEFAULT_KEY_ID, secret_access_key: DEFAULT_SECRET });
export const roleAuth = () => ({ type: 'role_arn', role_arn: DEFAULT_ROLE_ARN });

// Starts the fake AWS and a gateway that reaches it through AWS_ENDPOINT_URL, with the fake's
// permanent key as the gateway's own identity (for AssumeRole). opts: {fake: config, gateway:
// startGateway options}.
export async function startStack(opts = {}) {
  const fake = await startFakeAws(opts.fake ?? {});
  const gopts = opts.gateway ?? {};
  const gw = await startGateway({
    ...gopts,
    env: {
      AWS_ENDPOINT_URL: fake.url,
      AWS_ACCESS_KEY_ID: DEFAULT_KEY_ID,
      AWS_SECRET_ACCESS_KEY: DEFAULT_SECRET,
      ...(gopts.env ?? {}),
    },
  });
  const stack = {
    fake, gw,
    // The fake's control API.
    async control(method, path, body) {
      const res = await fetch(fake.url + path, {
        method, headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return text ? JSON.parse(text) : undefined;
    },
    script(s) { return stack.control('POST', '/__fake/script', s); },
    clearScripts() { return stack.control('DELETE', '/__fake/script'); },
    async requests() { return stack.control('GET', '/__fake/requests'); },
    clearRequests() { return stack.control('DELETE', '/__fake/requests'); },
    async stop() { await gw.stop(); gw.cleanup(); await fake.close(); },
  };
  return stack;
}

// Admin helpers over a gateway handle.
export async function createCredential(gw, name, { region = 'us-east-1', auth = accessKeysAuth() } = {}) {
  const r = await gw.call('POST', '/admin/v1/credentials', { body: { name, provider: 'bedrock', region, auth } });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

export async function createTeam(gw, name) {
  const r = await gw.call('POST', '/admin/v1/teams', { body: { name } });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

// models: [{provider_model_id, id?, name?}]; access: {all_teams: true} | {teams: [...]}.
export async function addModels(gw, credential, models, access = { all_teams: true }, extra = {}) {
  const r = await gw.call('POST', '/admin/v1/models', {
    body: { provider: 'bedrock', credential, models, team_access: access, ...extra } });
  assert.equal(r.status, 201, r.text);
  return r.body.models;
}

// A new user of `role` in `teams` (ids or names) and one API key: {user, key}.
export async function createUser(gw, role, teams = []) {
  const email = `${role}-${Math.random().toString(36).slice(2)}@example.com`;
  const u = await gw.call('POST', '/admin/v1/users', { body: { email, name: `${role} user`, role, teams } });
  assert.equal(u.status, 201, u.text);
  const k = await gw.call('POST', `/admin/v1/users/${u.body.id}/api-keys`, { body: { name: 'k' } });
  assert.equal(k.status, 201, k.text);
  return { user: u.body, key: k.body.key };
}

// Reads an SSE body into its events: [{event, data}] (data parsed as JSON when it is JSON).
export function parseSse(text) {
  const events = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    let event = null;
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (!data.length && event === null) continue;
    const raw = data.join('\n');
    let parsed = raw;
    try { parsed = JSON.parse(raw); } catch { /* [DONE] */ }
    events.push({ event, data: parsed, raw });
  }
  return events;
}

// Polls `fn` until it returns a truthy value or the deadline passes.
export async function eventually(fn, { timeoutMs = 10000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
