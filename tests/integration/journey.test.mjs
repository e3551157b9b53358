// The whole journey of issue [3/6] against the fake AWS, driven through the admin API and the
// data plane: credential -> catalog -> add models -> team access -> list -> chat -> stream ->
// tools -> completions -> edit access -> credential update -> revoke -> delete -> usage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dumpOnFailure, assertErrorShape } from './lib/gateway.mjs';
import {
  startStack, createCredential, createTeam, addModels, createUser, parseSse, roleAuth,
  eventually, DEFAULT_SECRET,
} from './lib/stack.mjs';

let s;  // the stack
let gw;
const ids = {};

before(async () => {
  s = await startStack();
  gw = s.gw;
});
after(async () => { await s.stop(); });

const chat = (key, body, path = '/v1/chat/completions') => gw.call('POST', path, { key, body });
const user = (text) => [{ role: 'user', content: text }];

test('credential, test, catalog, add models with team access', async (t) => {
  dumpOnFailure(t, gw);
  const cred = await createCredential(gw, 'prod-bedrock-us-east');
  ids.cred = cred.id;
  const tested = await gw.call('POST', `/admin/v1/credentials/${cred.id}/test`);
  assert.equal(tested.status, 200, tested.text);
  assert.equal(tested.body.ok, true);
  assert.ok(tested.body.models_visible > 5);

  const cat = await gw.call('GET', '/admin/v1/providers/bedrock/catalog?region=us-east-1&credential=prod-bedrock-us-east');
  assert.equal(cat.status, 200, cat.text);
  assert.equal(cat.body.region, 'us-east-1');
  const nova = cat.body.models.find((m) => m.provider_model_id === 'amazon.nova-lite-v1:0');
  assert.deepEqual(
    { vendor: nova.vendor, streaming: nova.streaming, lifecycle: nova.lifecycle, added: nova.added },
    { vendor: 'Amazon', streaming: true, lifecycle: 'ACTIVE', added: false });
  assert.ok(cat.body.models.some((m) => m.lifecycle === 'LEGACY'));

  const research = await createTeam(gw, 'research');
  const sales = await createTeam(gw, 'sales');
  ids.research = research.id;
  ids.sales = sales.id;

  const added = await addModels(gw, 'prod-bedrock-us-east', [
    { provider_model_id: 'amazon.nova-lite-v1:0', id: 'nova', name: 'Nova Lite (research)' },
  ], { teams: ['research'] });
  assert.equal(added[0].id, 'nova');
  assert.equal(added[0].region, 'us-east-1');  // the credential's region
  assert.deepEqual(added[0].credential, { id: cred.id, name: 'prod-bedrock-us-east' });
  assert.deepEqual(added[0].team_access, { all_teams: false, teams: [{ id: research.id, name: 'research' }] });
  assert.equal(added[0].health.status, 'unknown');
  const shared = await addModels(gw, cred.id, [{ provider_model_id: 'anthropic.claude-3-haiku-20240307-v1:0' }]);
  assert.equal(shared[0].id, 'anthropic.claude-3-haiku-20240307-v1:0');  // defaults to the provider id
  assert.equal(shared[0].name, 'Claude 3 Haiku');                        // and the catalog name

  // Inline role credentials: stored with the model only, never listed under /credentials.
  const inline = await gw.call('POST', '/admin/v1/models', { body: {
    provider: 'bedrock', auth: roleAuth(), region: 'us-west-2',
    models: [{ provider_model_id: 'amazon.nova-pro-v1:0', id: 'nova-pro-west' }],
    team_access: { all_teams: true } } });
  assert.equal(inline.status, 201, inline.text);
  assert.equal(inline.body.models[0].credential.inline, true);
  const creds = await gw.call('GET', '/admin/v1/credentials');
  assert.deepEqual(creds.body.credentials.map((c) => c.name), ['prod-bedrock-us-east']);
  assert.deepEqual(creds.body.credentials[0].models.sort(), ['anthropic.claude-3-haiku-20240307-v1:0', 'nova']);

  const cat2 = await gw.call('GET', `/admin/v1/providers/bedrock/catalog?region=us-east-1&credential=${cred.id}`);
  assert.equal(cat2.body.models.find((m) => m.provider_model_id === 'amazon.nova-lite-v1:0').added, true);

  // Conflicts and catalog checks.
  const dup = await gw.call('POST', '/admin/v1/models', { body: {
    provider: 'bedrock', credential: cred.id, models: [{ provider_model_id: 'amazon.nova-lite-v1:0', id: 'nova' }],
    team_access: { all_teams: true } } });
  assertErrorShape(assert, dup, 409);
  const missing = await gw.call('POST', '/admin/v1/models', { body: {
    provider: 'bedrock', credential: cred.id, region: 'eu-west-1',
    models: [{ provider_model_id: 'meta.llama3-8b-instruct-v1:0' }], team_access: { all_teams: true } } });
  assertErrorShape(assert, missing, 422, 'model_not_in_catalog');
  assert.equal(missing.body.error.param, 'models[0].provider_model_id');
  const inUse = await gw.call('DELETE', `/admin/v1/credentials/${cred.id}`);
  assertErrorShape(assert, inUse, 409, 'credential_in_use');
  assert.match(inUse.body.error.message, /nova/);
});

test('listing and invoking agree per role and team', async (t) => {
  dumpOnFailure(t, gw);
  ids.researcher = await createUser(gw, 'builder', ['research']);
  ids.seller = await createUser(gw, 'builder', ['sales']);
  ids.member = await createUser(gw, 'member', ['research']);
  ids.full = await createUser(gw, 'full_access', []);
  const list = async (key) => {
    const r = await gw.call('GET', '/v1/models', { key });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.models.map((m) => m.id), r.body.data.map((m) => m.id));
    assert.equal(r.body.object, 'list');
    return r.body.data.map((m) => m.id);
  };
  assert.deepEqual(await list(ids.researcher.key), ['anthropic.claude-3-haiku-20240307-v1:0', 'nova', 'nova-pro-west']);
  assert.deepEqual(await list(ids.seller.key), ['anthropic.claude-3-haiku-20240307-v1:0', 'nova-pro-west']);
  assert.deepEqual(await list(ids.full.key), ['anthropic.claude-3-haiku-20240307-v1:0', 'nova-pro-west']);
  assert.deepEqual(await list(gw.adminKey), ['anthropic.claude-3-haiku-20240307-v1:0', 'nova-pro-west']);  // admins use only what they may
  assertErrorShape(assert, await gw.call('GET', '/v1/models', { key: ids.member.key }), 403, 'permission_denied');

  const m = await gw.call('GET', '/v1/models/nova', { key: ids.researcher.key });
  assert.equal(m.status, 200, m.text);
  assert.deepEqual({ id: m.body.id, object: m.body.object, owned_by: m.body.owned_by, name: m.body.name },
    { id: 'nova', object: 'model', owned_by: 'bedrock', name: 'Nova Lite (research)' });
  assertErrorShape(assert, await gw.call('GET', '/v1/models/nova', { key: ids.seller.key }), 403, 'model_access_denied');
  assertErrorShape(assert, await chat(ids.seller.key, { model: 'nova', messages: user('hi') }), 403, 'model_access_denied');
  assertErrorShape(assert, await chat(ids.member.key, { model: 'nova', messages: user('hi') }), 403, 'permission_denied');
  assertErrorShape(assert, await chat(ids.researcher.key, { model: 'nope', messages: user('hi') }), 404, 'model_not_found');
  const enc = await gw.call('GET', `/v1/models/${encodeURIComponent('anthropic.claude-3-haiku-20240307-v1:0')}`, { key: ids.seller.key });
  assert.equal(enc.status, 200, enc.text);
});

test('chat on both paths, non-streaming', async (t) => {
  dumpOnFailure(t, gw);
  for (const path of ['/v1/chat/completions', '/v1/chat']) {
    const r = await chat(ids.researcher.key, {
      model: 'nova', messages: [{ role: 'system', content: 'Be brief.' }, ...user('What is the capital of France')],
      temperature: 0.5, max_tokens: 50 }, path);
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.ok(r.headers.get('x-request-id'));
    const b = r.body;
    assert.match(b.id, /^chatcmpl-/);
    assert.equal(b.object, 'chat.completion');
    assert.equal(b.model, 'nova');
    assert.equal(typeof b.created, 'number');
    assert.equal(b.choices[0].message.role, 'assistant');
    assert.equal(b.choices[0].message.content, 'echo: What is the capital of France');
    assert.equal(b.choices[0].message.refusal, null);
    assert.equal(b.choices[0].finish_reason, 'stop');
    assert.equal(b.usage.total_tokens, b.usage.prompt_tokens + b.usage.completion_tokens);
  }
  // The request reached Bedrock as Converse on the provider id, signed with the stored key.
  const log = await s.requests();
  const last = log.filter((e) => e.op === 'converse').at(-1);
  assert.deepEqual({ model: last.model, key: last.key, region: last.region, status: last.status },
    { model: 'amazon.nova-lite-v1:0', key: 'AKIDMODELGATETEST', region: 'us-east-1', status: 200 });
});

test('streaming on both paths: sequence, usage chunk, [DONE]', async (t) => {
  dumpOnFailure(t, gw);
  for (const [path, includeUsage] of [['/v1/chat/completions', true], ['/v1/chat', false]]) {
    const body = { model: 'nova', stream: true, messages: user('one two three four') };
    if (includeUsage) body.stream_options = { include_usage: true };
    const r = await gw.call('POST', path, { key: ids.researcher.key, body, headers: { accept: 'application/json' } });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type'), /^text\/event-stream/);
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    assert.ok(r.headers.get('x-request-id'));
    assert.ok(!/^event:/m.test(r.text), 'no event: lines on a successful stream');
    const ev = parseSse(r.text);
    assert.equal(ev.at(-1).raw, '[DONE]');
    const chunks = ev.slice(0, -1).map((e) => e.data);
    assert.ok(chunks.every((c) => c.id === chunks[0].id && c.object === 'chat.completion.chunk'));
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
    const text = chunks.flatMap((c) => c.choices).map((c) => c.delta.content ?? '').join('');
    assert.equal(text, 'echo: one two three four');
    const withChoices = chunks.filter((c) => c.choices.length);
    assert.equal(withChoices.at(-1).choices[0].finish_reason, 'stop');
    assert.deepEqual(withChoices.at(-1).choices[0].delta, {});
    if (includeUsage) {
      const u = chunks.at(-1);
      assert.deepEqual(u.choices, []);
      assert.equal(u.usage.total_tokens, u.usage.prompt_tokens + u.usage.completion_tokens);
      assert.ok(withChoices.every((c) => c.usage === null));
    } else {
      assert.ok(chunks.every((c) => c.usage === undefined));
    }
  }
});

test('tools: a call, its streamed deltas, and the answer to the tool result', async (t) => {
  dumpOnFailure(t, gw);
  const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Current weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
  for (const path of ['/v1/chat/completions', '/v1/chat']) {
    const r = await chat(ids.researcher.key, { model: 'nova', tools, messages: user('Please use the tool for Paris') }, path);
    assert.equal(r.status, 200, r.text);
    const c = r.body.choices[0];
    assert.equal(c.finish_reason, 'tool_calls');
    assert.equal(c.message.tool_calls[0].type, 'function');
    assert.equal(c.message.tool_calls[0].function.name, 'get_weather');
    assert.equal(typeof c.message.tool_calls[0].function.arguments, 'string');
    assert.equal(c.message.content, path === '/v1/chat' ? '' : null);
  }
  const first = await chat(ids.researcher.key, { model: 'nova', tools, tool_choice: 'required', messages: user('use the tool') });
  const call = first.body.choices[0].message.tool_calls[0];
  const answer = await chat(ids.researcher.key, { model: 'nova', tools, messages: [
    ...user('use the tool'),
    { role: 'assistant', content: null, tool_calls: [call] },
    { role: 'tool', tool_call_id: call.id, content: 'sunny, 21 C' },
  ] });
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.body.choices[0].message.content, 'echo: sunny, 21 C');

  const st = await gw.call('POST', '/v1/chat/completions', { key: ids.researcher.key,
    body: { model: 'nova', stream: true, tools, messages: user('use the tool now') } });
  const chunks = parseSse(st.text).slice(0, -1).map((e) => e.data);
  const deltas = chunks.flatMap((c) => c.choices).flatMap((c) => c.delta.tool_calls ?? []);
  assert.ok(deltas.length >= 2, st.text);
  assert.deepEqual({ index: deltas[0].index, type: deltas[0].type, name: deltas[0].function.name, args: deltas[0].function.arguments },
    { index: 0, type: 'function', name: 'get_weather', args: '' });
  assert.ok(deltas[0].id);
  assert.ok(deltas.slice(1).every((d) => d.index === 0 && d.id === undefined));
  assert.equal(JSON.parse(deltas.map((d) => d.function.arguments).join('')).constructor, Object);
  assert.equal(chunks.flatMap((c) => c.choices).at(-1).finish_reason, 'tool_calls');
});

test('completions: both dialects in one body, streamed and not', async (t) => {
  dumpOnFailure(t, gw);
  const r = await gw.call('POST', '/v1/completions', { key: ids.researcher.key, body: { model: 'nova', prompt: 'Once upon a time' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.object, 'text_completion');
  assert.equal(r.body.choices[0].text, 'echo: Once upon a time');
  assert.equal(r.body.choices[0].log_probs, null);
  const st = await gw.call('POST', '/v1/completions', { key: ids.researcher.key,
    body: { model: 'nova', prompt: 'Once upon a time', stream: true, stream_options: { include_usage: true } } });
  const ev = parseSse(st.text);
  assert.equal(ev.at(-1).raw, '[DONE]');
  const chunks = ev.slice(0, -1).map((e) => e.data);
  for (const c of chunks) {
    if (c.choices.length) assert.equal(c.value, c.choices[0].text);
  }
  assert.equal(chunks.map((c) => c.value).join(''), 'echo: Once upon a time');
  assert.ok(chunks.some((c) => c.choices[0]?.finish_reason === 'stop'));
  assert.deepEqual(chunks.at(-1).choices, []);
  assert.ok(chunks.at(-1).usage.total_tokens > 0);
});

test('an assumed role: AssumeRole first, then calls signed by the temporary key', async (t) => {
  dumpOnFailure(t, gw);
  await s.clearRequests();
  const r = await chat(ids.seller.key, { model: 'nova-pro-west', messages: user('hello west') });
  assert.equal(r.status, 200, r.text);
  const st = await gw.call('POST', '/v1/chat/completions', { key: ids.seller.key,
    body: { model: 'nova-pro-west', stream: true, messages: user('hello again') } });
  assert.equal(parseSse(st.text).at(-1).raw, '[DONE]');
  const log = await s.requests();
  const ops = log.map((e) => e.op);
  assert.deepEqual(ops, ['assume-role', 'converse', 'converse-stream'], JSON.stringify(log));
  assert.equal(log[0].key, 'AKIDMODELGATETEST');
  assert.match(log[1].key, /^ASIA/);
  assert.equal(log[1].key, log[0].issued_key);
  assert.equal(log[2].key, log[0].issued_key);  // the session is cached
  assert.equal(log[1].region, 'us-west-2');
});

test('edit access, update the credential, revoke a key, delete, usage', async (t) => {
  dumpOnFailure(t, gw);
  // Edit team access: sales gets nova, research loses it.
  const p = await gw.call('PATCH', '/admin/v1/models/nova', { body: { team_access: { teams: ['sales'] }, name: 'Nova Lite' } });
  assert.equal(p.status, 200, p.text);
  assert.equal((await chat(ids.seller.key, { model: 'nova', messages: user('now mine') })).status, 200);
  assertErrorShape(assert, await chat(ids.researcher.key, { model: 'nova', messages: user('gone') }), 403, 'model_access_denied');

  // A credential update is used from the next request on, without restart.
  const bad = await gw.call('PATCH', `/admin/v1/credentials/${ids.cred}`, { body: { auth: {
    type: 'access_keys', access_key_id: 'AKIDMODELGATETEST', secret_access_key: 'wrong-secret-value-0000' } } });
  assert.equal(bad.status, 200, bad.text);
  // The update also re-checks the model's health at once: the call fails upstream (502), or,
  // once that check has taken the model out of the pool, is refused as unavailable (503).
  const failed = await chat(ids.seller.key, { model: 'nova', messages: user('with a bad secret') });
  if (failed.status === 502) {
    assertErrorShape(assert, failed, 502, 'upstream_auth_failed');
    assert.equal(failed.headers.get('x-should-retry'), 'false');
  } else {
    assertErrorShape(assert, failed, 503, 'model_unavailable');
    assert.ok(Number(failed.headers.get('retry-after')) >= 1);
  }
  assert.ok(!failed.text.includes('wrong-secret-value') && !failed.text.includes('AKIDMODELGATETEST'));
  const good = await gw.call('PATCH', `/admin/v1/credentials/${ids.cred}`, { body: { auth: {
    type: 'access_keys', access_key_id: 'AKIDMODELGATETEST', secret_access_key: DEFAULT_SECRET } } });
  assert.equal(good.status, 200, good.text);
  assert.ok(good.body.secret_rotated_at);
  // Fixed: the next request works, or at the latest once the re-check triggered by the update
  // has put the model back in the pool.
  await eventually(async () => (await chat(ids.seller.key, { model: 'nova', messages: user('fixed') })).status === 200,
    { what: 'nova to answer again after the credential was fixed' });

  // Revocation takes effect at once.
  const keys = await gw.call('GET', `/admin/v1/users/${ids.seller.user.id}/api-keys`);
  const del = await gw.call('DELETE', `/admin/v1/users/${ids.seller.user.id}/api-keys/${keys.body.api_keys[0].id}`);
  assert.equal(del.status, 204, del.text);
  assertErrorShape(assert, await chat(ids.seller.key, { model: 'nova', messages: user('revoked') }), 401, 'invalid_api_key');

  // Delete: the model is gone for callers, then the credential can go.
  assert.equal((await gw.call('DELETE', '/admin/v1/models/nova')).status, 204);
  assertErrorShape(assert, await chat(ids.researcher.key, { model: 'nova', messages: user('deleted') }), 404, 'model_not_found');
  assert.equal((await gw.call('DELETE', '/admin/v1/models/anthropic.claude-3-haiku-20240307-v1%3A0')).status, 204);
  assert.equal((await gw.call('DELETE', `/admin/v1/credentials/${ids.cred}`)).status, 204);

  // Usage: every call above was metered, by user and by model.
  const byUser = await gw.call('GET', '/admin/v1/usage?group_by=user&since=1h');
  assert.equal(byUser.status, 200, byUser.text);
  const researcher = byUser.body.rows.find((r) => r.key === ids.researcher.user.id);
  assert.ok(researcher.requests >= 10, JSON.stringify(byUser.body));
  assert.ok(researcher.input_tokens > 0 && researcher.output_tokens > 0);
  // The seller's call with the bad secret reached the model and failed: an error row. (Calls
  // refused before reaching a model, 401/403/404, are not metered.)
  const seller = byUser.body.rows.find((r) => r.key === ids.seller.user.id);
  assert.ok(seller.errors >= 1, JSON.stringify(seller));
  const byModel = await gw.call('GET', '/admin/v1/usage?group_by=model');
  assert.ok(byModel.body.rows.some((r) => r.key === 'nova-pro-west' && r.requests >= 2));
  const byTeam = await gw.call('GET', '/admin/v1/usage?group_by=team');
  assert.ok(byTeam.body.rows.some((r) => r.key === ids.research && r.name === 'research'));
  assertErrorShape(assert, await gw.call('GET', '/admin/v1/usage?group_by=color'), 400, 'invalid_parameter');
  assertErrorShape(assert, await gw.call('GET', '/admin/v1/usage', { key: ids.researcher.key }), 403);
  // No response or log line of the whole journey carried the secret.
  assert.ok(!gw.log().includes(DEFAULT_SECRET));
});

test('SIGTERM after upstream traffic shuts down cleanly with exit code 0', async (t) => {
  dumpOnFailure(t, gw);
  // Pooled upstream connections, a live health monitor and queued usage are all torn down.
  assert.equal((await chat(ids.researcher.key, { model: 'nova-pro-west', messages: user('last call') })).status, 200);
  const { code, signal } = await gw.stop();
  assert.equal(signal, null, gw.log().slice(-2000));
  assert.equal(code, 0, gw.log().slice(-2000));
});
