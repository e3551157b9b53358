// Health monitoring and automatic recovery (issue [4/6]) against the fake AWS's fault injection:
// each fault takes the model out of the pool with the right cause and a message that says what
// to fix, and clearing the fault brings it back by itself (no admin call). Also: credential
// rotation, two credentials with one broken, passive detection from real traffic, backoff
// timing, a data-plane request that never waits on a probe, audit, metrics and restarts.
//
// Three gateways, each with its own fake AWS:
//   fast    --health-interval 400ms --health-cooldown 200ms, probe timeout 500 ms
//   slow    --health-interval 1h --health-cooldown 1h (only triggers and real traffic act)
//   backoff --health-interval 1600ms --health-cooldown 100ms
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dumpOnFailure, assertErrorShape, tempDir, startGateway } from './lib/gateway.mjs';
import { startStack, createCredential, addModels, createUser, DEFAULT_KEY_ID, DEFAULT_SECRET } from './lib/stack.mjs';

let fast, slow, backoff;
const restarted = [];  // gateways started by a test (stopped in after())

const slowArgs = ['--health-interval', '1h', '--health-cooldown', '1h'];

function configFile(text) {
  const dir = tempDir('mg-health-cfg-');
  const path = join(dir, 'modelgate.toml');
  writeFileSync(path, text);
  return path;
}

before(async () => {
  slowArgs.push('--config', configFile('[upstream]\nretry_backoff = "20ms"\n'));
  const upstream = '[upstream]\nprobe_timeout = "500ms"\nretry_backoff = "20ms"\n';
  [fast, slow, backoff] = await Promise.all([
    startStack({ gateway: { args: ['--health-interval', '400ms', '--health-cooldown', '200ms',
      '--config', configFile(upstream)] } }),
    startStack({ gateway: { args: slowArgs } }),
    startStack({ gateway: { args: ['--health-interval', '1600ms', '--health-cooldown', '100ms'] } }),
  ]);
});
after(async () => {
  for (const gw of restarted) await gw.stop();
  await Promise.all([fast, slow, backoff].filter(Boolean).map((s) => s.stop()));
});

const enc = encodeURIComponent;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A fake AWS key (and, optionally, the models it may call).
async function fakeKey(stack, id, extra = {}) {
  const r = await stack.control('POST', '/__fake/keys', { id, secret: `secret-of-${id}`, ...extra });
  assert.equal(r.ok, true);
  return { type: 'access_keys', access_key_id: id, secret_access_key: `secret-of-${id}` };
}

async function health(gw, id) {
  const r = await gw.call('GET', `/admin/v1/models/${enc(id)}/health`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

// Polls the model's health until `pred(health)` holds (deadline, no fixed sleeps).
async function waitHealth(gw, id, pred, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await health(gw, id);
    if (pred(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${id} to be ${what}; last: ${JSON.stringify(last.health)}`);
    }
    await sleep(50);
  }
}
const isHealthy = (h) => h.status === 'healthy' && h.in_pool === true &&
  h.checks.length > 0 && h.checks[0].status === 'healthy';
// The live state and the recorded history agree (the history is written just after).
const isUnhealthy = (cause) => (h) => h.status === 'unhealthy' && h.cause === cause &&
  h.checks.length > 0 && h.checks[0].cause === cause;

async function chat(gw, model, { stream = false } = {}) {
  return gw.call('POST', '/v1/chat/completions', {
    body: { model, stream, messages: [{ role: 'user', content: 'hello' }], max_tokens: 5 } });
}
async function poolIds(gw) {
  const r = await gw.call('GET', '/v1/models');
  assert.equal(r.status, 200, r.text);
  return r.body.data.map((m) => m.id);
}

// The shape every health object has, in GET /health, the model list and the model detail.
function assertHealthObject(h) {
  for (const k of ['status', 'in_pool', 'last_checked_at', 'next_check_at', 'cause', 'message', 'cooldown_until']) {
    assert.ok(k in h, `health.${k} missing: ${JSON.stringify(h)}`);
  }
}

// While unhealthy: out of the pool, left out of /v1/models, calls answered 503 with Retry-After.
async function assertOutOfPool(gw, id) {
  const h = await health(gw, id);
  assert.equal(h.in_pool, false, JSON.stringify(h.health));
  assert.ok(h.cooldown_until, 'cooldown_until is set while out of the pool');
  assert.ok(!(await poolIds(gw)).includes(id), `${id} still listed in /v1/models`);
  const r = await chat(gw, id);
  // It may come back between the two calls only if the fault is gone; here it is not.
  assertErrorShape(assert, r, 503, 'model_unavailable');
  assert.ok(Number(r.headers.get('retry-after')) >= 1, `Retry-After: ${r.headers.get('retry-after')}`);
}

// Fault -> cause -> cleared -> healthy again by itself. `inject`/`clear` act on the fake only.
async function faultAndRecovery(t, stack, { model, cred, cause, inject, clear, says, inPool = false }) {
  const gw = stack.gw;
  dumpOnFailure(t, gw);
  await addModels(gw, cred, [{ provider_model_id: model }]);
  await waitHealth(gw, model, isHealthy, 'healthy at first');
  await inject();
  const bad = await waitHealth(gw, model, isUnhealthy(cause), `unhealthy (${cause})`, 20000);
  assertHealthObject(bad.health);
  assert.equal(bad.in_pool, inPool);
  for (const re of says) assert.match(bad.message, re, `message: ${bad.message}`);
  assert.doesNotMatch(bad.message, /secret-of-|modelgate\/test\/secret/i, 'no secret in the message');
  assert.equal(bad.checks[0].status, 'unhealthy');
  assert.equal(bad.checks[0].cause, cause);
  if (!inPool) await assertOutOfPool(gw, model);
  await clear();
  // No admin call from here on: the monitor notices by itself.
  const good = await waitHealth(gw, model, isHealthy, 'healthy again', 20000);
  assert.equal(good.cause, null);
  assert.ok((await poolIds(gw)).includes(model));
  const r = await chat(gw, model);
  assert.equal(r.status, 200, r.text);
  return { bad, good };
}

test('access denied: permission_denied, out of the pool, back by itself once allowed again', async (t) => {
  const model = 'amazon.nova-micro-v1:0';
  const auth = await fakeKey(fast, 'AKIDLIMITEDKEY01', { allow_models: [model] });
  await createCredential(fast.gw, 'limited', { auth });
  const journey = [];
  const snap = async (stage) => {
    const h = await health(fast.gw, model);
    journey.push({ stage, status: h.status, in_pool: h.in_pool, cause: h.cause, message: h.message,
      last_checked_at: h.last_checked_at, next_check_at: h.next_check_at, cooldown_until: h.cooldown_until });
  };
  const { bad, good } = await faultAndRecovery(t, fast, {
    model, cred: 'limited', cause: 'permission_denied',
    inject: async () => { await snap('before the fault'); await fakeKey(fast, 'AKIDLIMITEDKEY01', { allow_models: ['amazon.nova-pro-v1:0'] }); },
    clear: async () => { await snap('fault: IAM no longer allows the model'); await fakeKey(fast, 'AKIDLIMITEDKEY01', { allow_models: [model] }); },
    says: [/not authorized to perform: bedrock:InvokeModel/, /permission/i],
  });
  await snap('fault cleared, no admin call');
  assert.ok(bad.checks.length >= 2);
  assert.ok(good.checks.some((c) => c.cause === 'permission_denied'), 'history keeps the failed checks');
  // One model's journey as the admin API reports it (quoted in the report).
  console.log(`health journey of ${model} (GET /admin/v1/models/{id}/health):`);
  for (const j of journey) console.log('  ' + JSON.stringify(j));
  // The transitions are in the audit log, by "system".
  const audit = await fast.gw.call('GET', '/admin/v1/audit?limit=1000');
  const events = audit.body.events.filter((e) => e.target === model && e.action.startsWith('health.'));
  const actions = events.map((e) => e.action).reverse();
  assert.deepEqual(actions.slice(0, 3), ['health.healthy', 'health.unhealthy', 'health.healthy'], JSON.stringify(events));
  assert.ok(events.every((e) => e.actor === 'system'));
  const down = events.find((e) => e.action === 'health.unhealthy');
  const details = typeof down.details === 'string' ? JSON.parse(down.details) : down.details;
  assert.equal(details.cause, 'permission_denied');
});

test('revoked key: credentials_invalid, back by itself once the key works again', async (t) => {
  const auth = await fakeKey(fast, 'AKIDREVOCABLE001');
  await createCredential(fast.gw, 'revocable', { auth });
  await faultAndRecovery(t, fast, {
    model: 'amazon.nova-lite-v1:0', cred: 'revocable', cause: 'credentials_invalid',
    inject: () => fakeKey(fast, 'AKIDREVOCABLE001', { revoked: true }),
    clear: () => fakeKey(fast, 'AKIDREVOCABLE001', { revoked: false }),
    says: [/UnrecognizedClientException/, /expired, deactivated or revoked/],
  });
});

test('provider outage (503): provider_unavailable, back by itself when Bedrock recovers', async (t) => {
  await createCredential(fast.gw, 'main');
  const model = 'amazon.nova-pro-v1:0';
  let id;
  await faultAndRecovery(t, fast, {
    model, cred: 'main', cause: 'provider_unavailable',
    inject: async () => { id = (await fast.script({ match: { model, op: 'converse' }, error: 'ServiceUnavailableException', message: 'Service is unavailable.' })).id; },
    clear: () => fast.control('DELETE', `/__fake/script/${id}`),
    says: [/ServiceUnavailableException/, /status/i],
  });
});

test('timeout: the provider does not answer within the probe deadline, then answers again', async (t) => {
  const model = 'amazon.titan-text-express-v1';
  let id;
  await faultAndRecovery(t, fast, {
    model, cred: 'main', cause: 'timeout',
    inject: async () => { id = (await fast.script({ match: { model, op: 'converse' }, delay_ms: 2000 })).id; },
    clear: () => fast.control('DELETE', `/__fake/script/${id}`),
    says: [/did not answer/i],
  });
});

test('model missing in the region: model_not_available_in_region, back when it is offered again', async (t) => {
  const model = 'anthropic.claude-3-haiku-20240307-v1:0';
  let id;
  await faultAndRecovery(t, fast, {
    model, cred: 'main', cause: 'model_not_available_in_region',
    inject: async () => { id = (await fast.script({ match: { model, op: 'converse' }, error: 'ResourceNotFoundException', message: 'Could not resolve the foundation model from the provided model identifier.' })).id; },
    clear: () => fast.control('DELETE', `/__fake/script/${id}`),
    says: [/ResourceNotFoundException/, /region us-east-1/],
  });
});

test('LEGACY model: healthy and in the pool, with a deprecation warning', async (t) => {
  dumpOnFailure(t, fast.gw);
  const model = 'anthropic.claude-3-sonnet-20240229-v1:0';
  await addModels(fast.gw, 'main', [{ provider_model_id: model }]);
  const h = await waitHealth(fast.gw, model, isHealthy, 'healthy');
  assert.equal(h.lifecycle, 'LEGACY');
  assert.match(h.message, /LEGACY/);
  assert.match(h.message, /end of life/);
  assert.ok((await poolIds(fast.gw)).includes(model));
  const list = await fast.gw.call('GET', '/admin/v1/models');
  const entry = list.body.models.find((m) => m.id === model);
  assert.deepEqual(Object.keys(entry.health).sort(), Object.keys(h.health).sort());
  assert.equal(entry.health.status, 'healthy');
  assert.equal(entry.health.message, h.message, 'the model list renders the same health object');
});

test('model refused as end-of-life: model_deprecated; back (LEGACY, with warning) when served again', async (t) => {
  const model = 'anthropic.claude-v2:1';
  let id;
  const { good } = await faultAndRecovery(t, fast, {
    model, cred: 'main', cause: 'model_deprecated',
    inject: async () => { id = (await fast.script({ match: { model, op: 'converse' }, error: 'ResourceNotFoundException', message: 'This model version has reached the end of its life. Please refer to the AWS documentation for more details.' })).id; },
    clear: () => fast.control('DELETE', `/__fake/script/${id}`),
    says: [/end of its life/, /newer model/],
  });
  assert.match(good.message, /LEGACY/);
});

test('two credentials, one broken: the other credential\'s models are unaffected', async (t) => {
  dumpOnFailure(t, fast.gw);
  const a = await fakeKey(fast, 'AKIDTEAMAKEY0001');
  const b = await fakeKey(fast, 'AKIDTEAMBKEY0001');
  await createCredential(fast.gw, 'team-a', { auth: a });
  await createCredential(fast.gw, 'team-b', { auth: b });
  const aModels = ['meta.llama3-8b-instruct-v1:0', 'mistral.mistral-7b-instruct-v0:2'];
  const bModels = ['mistral.mistral-large-2402-v1:0', 'cohere.command-r-plus-v1:0'];
  await addModels(fast.gw, 'team-a', aModels.map((m) => ({ provider_model_id: m })));
  await addModels(fast.gw, 'team-b', bModels.map((m) => ({ provider_model_id: m })));
  for (const m of [...aModels, ...bModels]) await waitHealth(fast.gw, m, isHealthy, 'healthy');
  await fakeKey(fast, 'AKIDTEAMAKEY0001', { revoked: true });
  for (const m of aModels) await waitHealth(fast.gw, m, isUnhealthy('credentials_invalid'), 'broken');
  // Several check rounds of the other credential happen while team-a is broken.
  await sleep(1000);
  for (const m of bModels) {
    const h = await health(fast.gw, m);
    assert.ok(isHealthy(h), `${m}: ${JSON.stringify(h.health)}`);
    assert.ok(h.checks.length >= 3);
    assert.ok(h.checks.every((c) => c.status === 'healthy'), `${m} had a failed check`);
    assert.equal((await chat(fast.gw, m)).status, 200);
  }
  const pool = await poolIds(fast.gw);
  for (const m of bModels) assert.ok(pool.includes(m));
  for (const m of aModels) assert.ok(!pool.includes(m));
  await fakeKey(fast, 'AKIDTEAMAKEY0001', { revoked: false });
  for (const m of aModels) await waitHealth(fast.gw, m, isHealthy, 'healthy again');
});

test('checks run every interval; status, last/next check and metrics are visible', async (t) => {
  dumpOnFailure(t, fast.gw);
  const model = 'mistral.mistral-large-2402-v1:0';
  const before = (await health(fast.gw, model)).checks.length;
  await sleep(1300);
  const h = await health(fast.gw, model);
  // 400 ms interval (up to 10 % earlier): about three more checks, unless real traffic counted.
  assert.ok(h.checks.length >= Math.min(before + 2, 50), `checks ${before} -> ${h.checks.length}`);
  assert.ok(Date.parse(h.next_check_at) >= Date.parse(h.last_checked_at));
  const detail = await fast.gw.call('GET', `/admin/v1/models/${enc(model)}`);
  assertHealthObject(detail.body.health);
  const metrics = (await fast.gw.call('GET', '/metrics', { key: null })).text;
  assert.match(metrics, /modelgate_models\{status="healthy"\} [1-9]/);
  assert.match(metrics, /modelgate_models\{status="unhealthy"\} \d/);
  assert.match(metrics, /modelgate_health_probe_seconds_count [1-9]/);
  assert.match(metrics, /modelgate_health_probes_total\{outcome="healthy"\} [1-9]/);
  assert.match(metrics, /modelgate_health_probes_total\{outcome="permission_denied"\} [1-9]/);
  assert.match(metrics, /modelgate_health_probes_total\{outcome="credentials_invalid"\} [1-9]/);
});

test('a busy model counts its successful real requests as checks (no probe tokens)', async (t) => {
  dumpOnFailure(t, fast.gw);
  const model = 'cohere.command-r-plus-v1:0';
  // Let one check pass first so the traffic below starts after it.
  const start = (await health(fast.gw, model)).checks.length;
  await waitHealth(fast.gw, model, (h) => h.checks.length > start, 'checked once more');
  await fast.clearRequests();
  let chats = 0;
  const stopAt = Date.now() + 1600;
  while (Date.now() < stopAt) {
    assert.equal((await chat(fast.gw, model)).status, 200);
    chats++;
    await sleep(100);
  }
  const h = await health(fast.gw, model);
  assert.ok(h.checks.some((c) => /no probe needed/.test(c.message ?? '')), JSON.stringify(h.checks.slice(0, 3)));
  const converse = (await fast.requests()).filter((r) => r.model === model && r.op === 'converse');
  // Each request is one Converse; probes would add about one per 400 ms (four) on top.
  assert.ok(converse.length <= chats + 1, `${converse.length} Converse calls for ${chats} requests`);
});

test('health endpoints: contract errors for unknown models, bad input and roles', async (t) => {
  const gw = fast.gw;
  dumpOnFailure(t, gw);
  const model = 'amazon.nova-pro-v1:0';
  assertErrorShape(assert, await gw.call('GET', '/admin/v1/models/nope/health'), 404, 'model_not_found');
  assertErrorShape(assert, await gw.call('POST', '/admin/v1/models/nope/health-check'), 404, 'model_not_found');
  const badLimit = await gw.call('GET', `/admin/v1/models/${enc(model)}/health?limit=0`);
  assertErrorShape(assert, badLimit, 400, 'invalid_parameter');
  assert.equal(badLimit.body.error.param, 'limit');
  const limited = await gw.call('GET', `/admin/v1/models/${enc(model)}/health?limit=2`);
  assert.equal(limited.status, 200, limited.text);
  assert.equal(limited.body.checks.length, 2);
  for (const c of limited.body.checks) {
    assert.deepEqual(Object.keys(c).sort(), ['at', 'cause', 'latency_ms', 'message', 'status']);
  }
  assert.ok(Date.parse(limited.body.checks[0].at) >= Date.parse(limited.body.checks[1].at), 'newest first');
  assert.equal(limited.body.provider, 'bedrock');
  assert.equal(limited.body.provider_model_id, model);
  assert.deepEqual(limited.body.team_access, { all_teams: true, teams: [] });
  assert.equal(limited.body.credential.name, 'main');
  assertErrorShape(assert, await gw.call('POST', `/admin/v1/models/${enc(model)}/health-check`,
    { body: { now: true } }), 400, 'invalid_parameter');
  const builder = await createUser(gw, 'builder');
  assertErrorShape(assert, await gw.call('GET', `/admin/v1/models/${enc(model)}/health`, { key: builder.key }),
    403, 'permission_denied');
  assertErrorShape(assert, await gw.call('POST', `/admin/v1/models/${enc(model)}/health-check`, { key: builder.key }),
    403, 'permission_denied');
  assertErrorShape(assert, await gw.call('GET', `/admin/v1/models/${enc(model)}/health`, { key: null }),
    401, 'invalid_api_key');
  // An on-demand check answers with its result and is the newest in the history.
  const now = await gw.call('POST', `/admin/v1/models/${enc(model)}/health-check`, { body: {} });
  assert.equal(now.status, 200, now.text);
  assert.equal(now.body.check.status, 'healthy');
  assert.equal(now.body.health.status, 'healthy');
  assert.ok(now.body.checks.some((c) => c.at === now.body.check.at));
});

test('credential rotation restores all its models at once', async (t) => {
  const gw = slow.gw;
  dumpOnFailure(t, gw);
  const first = await fakeKey(slow, 'AKIDROTATION0001');
  const cred = await createCredential(gw, 'rotating', { auth: first });
  const models = ['amazon.nova-micro-v1:0', 'amazon.nova-lite-v1:0', 'amazon.nova-pro-v1:0'];
  await addModels(gw, 'rotating', models.map((m) => ({ provider_model_id: m })));
  for (const m of models) await waitHealth(gw, m, isHealthy, 'healthy');
  await fakeKey(slow, 'AKIDROTATION0001', { revoked: true });
  // Real requests fail with the revoked key: each model leaves the pool at the first failure.
  for (const m of models) {
    assertErrorShape(assert, await chat(gw, m), 502, 'upstream_auth_failed');
    const h = await waitHealth(gw, m, isUnhealthy('credentials_invalid'), 'out after one real failure', 5000);
    assert.match(h.message, /^1 failure of a real request: /);
    assert.equal(h.in_pool, false);
  }
  const second = await fakeKey(slow, 'AKIDROTATION0002');
  await slow.clearRequests();
  const started = Date.now();
  const r = await gw.call('PATCH', `/admin/v1/credentials/${cred.id}`, { body: { auth: second } });
  assert.equal(r.status, 200, r.text);
  // The interval and cooldown are an hour: only the rotation can bring them back this fast.
  for (const m of models) await waitHealth(gw, m, isHealthy, 'restored by the rotation', 5000);
  assert.ok(Date.now() - started < 5000);
  const probes = (await slow.requests()).filter((q) => q.op === 'converse');
  for (const m of models) {
    assert.ok(probes.some((q) => q.model === m && q.key === 'AKIDROTATION0002'), `no probe of ${m} with the new key`);
  }
});

test('passive detection: consecutive provider failures of real traffic take the model out at once', async (t) => {
  const gw = slow.gw;
  dumpOnFailure(t, gw);
  await createCredential(gw, 'main');
  const model = 'amazon.titan-text-express-v1';
  await addModels(gw, 'main', [{ provider_model_id: model }]);
  await waitHealth(gw, model, isHealthy, 'healthy');
  // The caller's own errors never count.
  for (let i = 0; i < 4; i++) {
    const r = await gw.call('POST', '/v1/chat/completions', {
      body: { model, messages: [{ role: 'user', content: 'x' }], temperature: 1.5 } });
    assert.equal(r.status, 400, r.text);
  }
  assert.ok(isHealthy(await health(gw, model)));
  await slow.clearRequests();
  const { id } = await slow.script({ match: { model, op: 'converse' }, error: 'ServiceUnavailableException', message: 'Bedrock is down.' });
  for (let i = 0; i < 2; i++) assertErrorShape(assert, await chat(gw, model), 502, 'upstream_error');
  assert.equal((await health(gw, model)).in_pool, true, 'two failures are not enough');
  assertErrorShape(assert, await chat(gw, model), 502, 'upstream_error');
  // Out now, without waiting for the next check (which is an hour away).
  const h = await waitHealth(gw, model, isUnhealthy('provider_unavailable'), 'out after three failures', 5000);
  assert.match(h.message, /^3 consecutive failures of real requests: ServiceUnavailableException/);
  await assertOutOfPool(gw, model);
  const calls = (await slow.requests()).filter((q) => q.model === model && q.op === 'converse');
  assert.equal(calls.length, 3 * 3, 'three real requests (each tried three times), no probe');
  // A restart keeps what was known: still out of the pool before any probe.
  await gw.stop();
  const again = await startGateway({
    dataDir: gw.dataDir, adminKey: gw.adminKey, args: slowArgs,
    env: { AWS_ENDPOINT_URL: slow.fake.url, AWS_ACCESS_KEY_ID: DEFAULT_KEY_ID, AWS_SECRET_ACCESS_KEY: DEFAULT_SECRET },
  });
  restarted.push(again);
  slow.gw = again;  // the later tests use the restarted gateway
  dumpOnFailure(t, again);
  const known = await health(again, model);
  assert.equal(known.status, 'unhealthy');
  assert.equal(known.in_pool, false);
  assert.equal(known.cause, 'provider_unavailable');
  await slow.control('DELETE', `/__fake/script/${id}`);
  const checked = await again.call('POST', `/admin/v1/models/${enc(model)}/health-check`);
  assert.equal(checked.status, 200, checked.text);
  assert.equal(checked.body.status, 'healthy');
  assert.equal(checked.body.check.status, 'healthy');
  assert.ok(isHealthy(await health(again, model)));
});

test('a data-plane request never waits on a probe', async (t) => {
  const gw = slow.gw;
  dumpOnFailure(t, gw);
  const model = 'amazon.nova-micro-v1:0';
  await waitHealth(gw, model, isHealthy, 'healthy');
  // The probe (Converse) hangs for 3 s; real streaming requests (ConverseStream) do not.
  const { id } = await slow.script({ match: { model, op: 'converse' }, delay_ms: 3000 });
  const started = Date.now();
  const probe = gw.call('POST', `/admin/v1/models/${enc(model)}/health-check`);
  await sleep(200);
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    const r = await chat(gw, model, { stream: true });
    assert.equal(r.status, 200, r.text);
    assert.ok(Date.now() - t0 < 1000, `a stream took ${Date.now() - t0} ms while a probe was in flight`);
    const t1 = Date.now();
    assert.ok((await poolIds(gw)).includes(model));
    assert.ok((await health(gw, model)).in_pool);
    assert.ok(Date.now() - t1 < 1000);
  }
  const done = await probe;
  assert.ok(Date.now() - started >= 2500, 'the probe really was held');
  assert.equal(done.status, 200, done.text);
  assert.equal(done.body.check.status, 'healthy');
  await slow.control('DELETE', `/__fake/script/${id}`);
});

test('repeated failures back off, doubling from the cooldown, capped at the interval', async (t) => {
  const gw = backoff.gw;
  dumpOnFailure(t, gw);
  await createCredential(gw, 'main');
  const model = 'amazon.nova-micro-v1:0';
  await addModels(gw, 'main', [{ provider_model_id: model }]);
  await waitHealth(gw, model, isHealthy, 'healthy');
  const { id } = await backoff.script({ match: { model, op: 'converse' }, error: 'AccessDeniedException',
    message: 'User: arn:aws:iam::123456789012:user/gw is not authorized to perform: bedrock:InvokeModel' });
  // Failed checks come after 100, 200, 400, 800, 1600 (cap), 1600 ms.
  const h = await waitHealth(gw, model,
    (x) => x.checks.filter((c) => c.status === 'unhealthy').length >= 7, 'seven failed checks', 20000);
  const failed = h.checks.filter((c) => c.status === 'unhealthy').map((c) => Date.parse(c.at)).reverse();
  const gaps = failed.slice(1).map((at, i) => at - failed[i]);
  console.log(`backoff gaps between failed checks (ms): ${gaps.join(', ')}`);
  const expected = [100, 200, 400, 800, 1600, 1600];
  expected.forEach((want, i) => {
    assert.ok(gaps[i] >= want * 0.9, `gap ${i}: ${gaps[i]} ms < ${want} ms (${gaps})`);
    assert.ok(gaps[i] <= want + 400, `gap ${i}: ${gaps[i]} ms > ${want} ms + 400 (${gaps})`);
  });
  await backoff.control('DELETE', `/__fake/script/${id}`);
  await waitHealth(gw, model, isHealthy, 'healthy again', 5000);
});
