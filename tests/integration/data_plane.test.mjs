// The data plane's contract (client-api.md §7) against the fake AWS: every row of the error
// table that can be produced, per-role and per-team access on every endpoint, late stream
// failures, chunks passed on as they arrive, and a client that hangs up mid-stream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { dumpOnFailure, assertErrorShape, tempDir } from './lib/gateway.mjs';
import {
  startStack, createCredential, createTeam, addModels, createUser, parseSse, eventually,
} from './lib/stack.mjs';

const MODEL = 'amazon.nova-lite-v1:0';
let s, gw, builder, outsider, member, adminNoTeam;

before(async () => {
  // Short upstream deadlines so the 504 rows take a second, not two minutes.
  const dir = tempDir('mg-dp-cfg-');
  const config = join(dir, 'modelgate.toml');
  // Errors are injected on purpose here: passive health detection would take the model out.
  writeFileSync(config, 'health_passive_threshold = 0\n' +
    '[upstream]\nconverse_timeout = "1500ms"\nstream_first_event_timeout = "1500ms"\n' +
    'stream_idle_timeout = "1500ms"\nretry_backoff = "20ms"\n' +
    '[stream]\nheartbeat_interval = "300ms"\n');
  s = await startStack({ gateway: { args: ['--config', config] } });
  gw = s.gw;
  await createCredential(gw, 'main');
  await createTeam(gw, 'blue');
  await createTeam(gw, 'red');
  await addModels(gw, 'main', [{ provider_model_id: MODEL, id: 'blue-model' }], { teams: ['blue'] });
  await addModels(gw, 'main', [{ provider_model_id: 'amazon.nova-micro-v1:0', id: 'text-only' }], { all_teams: true });
  builder = await createUser(gw, 'builder', ['blue']);
  outsider = await createUser(gw, 'builder', ['red']);
  member = await createUser(gw, 'member', ['blue']);
  adminNoTeam = { key: gw.adminKey };
});
after(async () => { await s.stop(); });

const ask = (text) => [{ role: 'user', content: text }];
const post = (path, body, key = builder.key, extra = {}) => gw.call('POST', path, { key, body, ...extra });

test('every data-plane endpoint enforces role and team access', async (t) => {
  dumpOnFailure(t, gw);
  const endpoints = [
    ['GET', '/v1/models/blue-model', undefined],
    ['POST', '/v1/chat', { model: 'blue-model', messages: ask('hi') }],
    ['POST', '/v1/chat/completions', { model: 'blue-model', messages: ask('hi') }],
    ['POST', '/v1/completions', { model: 'blue-model', prompt: 'hi' }],
  ];
  for (const [method, path, body] of endpoints) {
    const ok = await gw.call(method, path, { key: builder.key, body });
    assert.equal(ok.status, 200, `${path}: ${ok.text}`);
    assertErrorShape(assert, await gw.call(method, path, { key: outsider.key, body }), 403, 'model_access_denied');
    assertErrorShape(assert, await gw.call(method, path, { key: adminNoTeam.key, body }), 403, 'model_access_denied');
    assertErrorShape(assert, await gw.call(method, path, { key: member.key, body }), 403, 'permission_denied');
    assertErrorShape(assert, await gw.call(method, path, { key: null, body }), 401, 'invalid_api_key');
  }
  const list = async (key) => (await gw.call('GET', '/v1/models', { key })).body.data.map((m) => m.id);
  assert.deepEqual(await list(builder.key), ['blue-model', 'text-only']);
  assert.deepEqual(await list(outsider.key), ['text-only']);
  assertErrorShape(assert, await gw.call('GET', '/v1/models', { key: member.key }), 403, 'permission_denied');
});

test('request errors: 400, 401, 404, 405, 413', async (t) => {
  dumpOnFailure(t, gw);
  const raw = (path, text, headers = {}) => gw.call('POST', path, { key: builder.key, raw: text, headers });
  assertErrorShape(assert, await raw('/v1/chat/completions', '{nope'), 400, 'invalid_json');
  assertErrorShape(assert, await raw('/v1/chat/completions', '[1,2]'), 400, 'invalid_json');
  // Parsed whatever the Content-Type (curl -d sends a form type).
  const form = await raw('/v1/chat/completions', JSON.stringify({ model: 'blue-model', messages: ask('form') }),
    { 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(form.status, 200, form.text);
  const cases = [
    [{ messages: ask('x') }, 'invalid_parameter', 'model'],
    [{ model: 'blue-model' }, 'invalid_parameter', 'messages'],
    [{ model: 'blue-model', messages: ask('x'), temperature: 'hot' }, 'invalid_parameter', 'temperature'],
    [{ model: 'blue-model', messages: [{ role: 'user', content: 7 }] }, 'invalid_parameter', 'messages[0].content'],
    [{ model: 'blue-model', messages: ask('x'), stop: ['a', 'b', 'c', 'd', 'e'] }, 'invalid_parameter', 'stop'],
    [{ model: 'blue-model', messages: ask('x'), n: 2 }, 'unsupported_parameter', 'n'],
    [{ model: 'blue-model', messages: ask('x'), logprobs: true }, 'unsupported_parameter', 'logprobs'],
    [{ model: 'blue-model', messages: ask('x'), tools: [{ type: 'web_search' }] }, 'unsupported_parameter', 'tools[0].type'],
    [{ model: 'blue-model', messages: [{ role: 'function', content: 'x' }] }, null, 'messages[0].role'],
  ];
  for (const [body, code, param] of cases) {
    const r = await post('/v1/chat/completions', body);
    assertErrorShape(assert, r, 400, code ?? undefined);
    assert.equal(r.body.error.param, param, r.text);
    assert.equal(r.body.tpe, 'BadRequest');
    assert.equal(r.body.errors[0].key, r.body.error.code);
    assert.equal(r.body.extras.request_id, r.headers.get('x-request-id'));
  }
  // Images: refused for a text-only model (the catalog lists no IMAGE input), and as URLs.
  const png = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
  const image = (model, url) => post('/v1/chat/completions', { model, messages: [{ role: 'user', content: [
    { type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url } }] }] });
  assertErrorShape(assert, await image('text-only', png), 400, 'unsupported_parameter');
  assertErrorShape(assert, await image('blue-model', 'https://example.com/cat.png'), 400, 'unsupported_parameter');
  assert.equal((await image('blue-model', png)).status, 200);
  // Unknown fields are ignored; neutral values of unsupported ones are accepted.
  const lenient = await post('/v1/chat/completions', { model: 'blue-model', messages: ask('x'), n: 1, presence_penalty: 0,
    logit_bias: {}, user: 'u1', metadata: { a: 1 }, some_future_field: true });
  assert.equal(lenient.status, 200, lenient.text);
  // A provider rejection of the request itself: 400 upstream_invalid_request.
  assertErrorShape(assert, await post('/v1/chat/completions', { model: 'blue-model', messages: ask('x'), temperature: 1.5 }),
    400, 'upstream_invalid_request');
  assertErrorShape(assert, await post('/v1/chat/completions', { model: 'blue-model', messages: ask('x') }, 'mg_not_a_key'), 401, 'invalid_api_key');
  const basic = await gw.call('POST', '/v1/chat/completions', { key: null, headers: { authorization: `Basic ${builder.key}` },
    body: { model: 'blue-model', messages: ask('x') } });
  assertErrorShape(assert, basic, 401, 'invalid_api_key');
  const lower = await gw.call('POST', '/v1/chat/completions', { key: null, headers: { authorization: `bearer   ${builder.key}` },
    body: { model: 'blue-model', messages: ask('x') } });
  assert.equal(lower.status, 200, lower.text);
  assertErrorShape(assert, await post('/v1/chat/completions', { model: 'nope', messages: ask('x') }), 404, 'model_not_found');
  assertErrorShape(assert, await post('/v1/nope', {}), 404, 'route_not_found');
  const m405 = await gw.call('GET', '/v1/chat', { key: builder.key });
  assertErrorShape(assert, m405, 405, 'method_not_allowed');
  assert.match(m405.headers.get('allow'), /POST/);
  const slash = await post('/v1/chat/', { model: 'blue-model', messages: ask('trailing slash') });
  assert.equal(slash.status, 200, slash.text);
  const big = await gw.call('POST', '/v1/chat/completions', { key: builder.key,
    raw: JSON.stringify({ model: 'blue-model', messages: ask('x'.repeat(11 * 1024 * 1024)) }) });
  assertErrorShape(assert, big, 413, 'request_too_large');
});

test('upstream errors map to 429, 502, 504 with their headers', async (t) => {
  dumpOnFailure(t, gw);
  const rows = [
    [{ error: 'ThrottlingException' }, 429, 'upstream_rate_limited'],
    [{ error: 'ServiceQuotaExceededException' }, 429, 'upstream_rate_limited'],
    [{ error: 'UnrecognizedClientException' }, 502, 'upstream_auth_failed'],
    [{ error: 'AccessDeniedException', message: 'User: arn:aws:iam::123456789012:user/x is not authorized to perform: bedrock:InvokeModel on resource: arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0' }, 502, 'upstream_auth_failed'],
    [{ error: 'InternalServerException' }, 502, 'upstream_error'],
    [{ error: 'ServiceUnavailableException' }, 502, 'upstream_error'],
    [{ error: 'ModelErrorException' }, 502, 'upstream_error'],
    [{ error: 'ResourceNotFoundException' }, 502, 'upstream_error'],
    [{ corrupt_frame: true }, 502, 'upstream_error'],
    [{ drop: true }, 502, 'upstream_error'],
    [{ error: 'ModelTimeoutException' }, 504, 'upstream_timeout'],
    [{ delay_ms: 4000 }, 504, 'upstream_timeout'],
  ];
  for (const [script, status, code] of rows) {
    await s.clearScripts();
    await s.script({ match: { model: MODEL, op: 'converse' }, ...script });
    const r = await post('/v1/chat/completions', { model: 'blue-model', messages: ask('x') });
    assertErrorShape(assert, r, status, code);
    assert.equal(r.body.tpe, { 429: 'TooManyRequests', 502: 'BadGateway', 504: 'GatewayTimeout' }[status], r.text);
    if (status === 429) {
      assert.ok(Number(r.headers.get('retry-after')) >= 1, r.text);
      assert.ok(Number(r.headers.get('retry-after-ms')) > 0);
    }
    if (code === 'upstream_auth_failed') assert.equal(r.headers.get('x-should-retry'), 'false');
    // Nothing of the provider's raw text that could identify the account leaks.
    assert.ok(!/AKID|ASIA|123456789012|arn:aws/.test(r.text), r.text);
    // Streaming requests get the same status before any byte is sent.
    await s.clearScripts();
    await s.script({ match: { model: MODEL, op: 'converse-stream' }, ...script });
    const st = await post('/v1/chat/completions', { model: 'blue-model', stream: true, messages: ask('x') });
    assertErrorShape(assert, st, status, code);
  }
  await s.clearScripts();
});

test('the gateway own per-key limit: 429 rate_limit_exceeded', async (t) => {
  const limited = await startStack({ gateway: { env: { MODELGATE_KEY_REQUESTS_PER_MINUTE: '2' } } });
  dumpOnFailure(t, limited.gw);
  try {
    await createCredential(limited.gw, 'main');
    await addModels(limited.gw, 'main', [{ provider_model_id: MODEL }]);
    const call = () => limited.gw.call('POST', '/v1/chat/completions', { body: { model: MODEL, messages: ask('x') } });
    assert.equal((await call()).status, 200);
    assert.equal((await call()).status, 200);
    const r = await call();
    assertErrorShape(assert, r, 429, 'rate_limit_exceeded');
    assert.equal(r.body.error.type, 'rate_limit_error');
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    assert.ok(Number(r.headers.get('retry-after-ms')) > 1000);
  } finally {
    await limited.stop();
  }
});

test('late stream failures end with event: error and no [DONE]', async (t) => {
  dumpOnFailure(t, gw);
  const scripts = [
    [{ error: 'ModelStreamErrorException', after_events: 2 }, 'upstream_error'],
    [{ error: 'ThrottlingException', after_events: 2 }, 'upstream_rate_limited'],
    [{ error: 'InternalServerException', after_events: 3 }, 'upstream_error'],
    [{ drop: true, after_events: 2 }, 'upstream_error'],
    [{ corrupt_frame: true, after_events: 2 }, 'upstream_error'],
    [{ delay_ms: 4000, after_events: 2 }, 'upstream_timeout'],
  ];
  for (const path of ['/v1/chat/completions', '/v1/chat', '/v1/completions']) {
    for (const [script, code] of scripts) {
      await s.clearScripts();
      await s.script({ match: { model: MODEL, op: 'converse-stream' }, ...script });
      const body = path === '/v1/completions'
        ? { model: 'blue-model', stream: true, prompt: 'one two three four five' }
        : { model: 'blue-model', stream: true, messages: ask('one two three four five') };
      const r = await post(path, body);
      assert.equal(r.status, 200, r.text);
      const ev = parseSse(r.text);
      assert.ok(!ev.some((e) => e.raw === '[DONE]'), `${path} ${JSON.stringify(script)}: ${r.text}`);
      const last = ev.at(-1);
      assert.equal(last.event, 'error', r.text);
      assert.equal(last.data.error.code, code, r.text);
      assert.equal(typeof last.data.message, 'string');
      assert.equal(typeof last.data.tpe, 'string');
      assert.ok(ev.slice(0, -1).every((e) => e.event === null));
    }
  }
  await s.clearScripts();
});

test('an idle stream gets keep-alive comments, which the SSE framing ignores', async (t) => {
  dumpOnFailure(t, gw);
  await s.script({ match: { model: MODEL, op: 'converse-stream' }, event_delay_ms: 700 });
  const r = await post('/v1/chat/completions', { model: 'blue-model', stream: true, messages: ask('slow answer') });
  await s.clearScripts();
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /^: keep-alive\n\n/m);
  const ev = parseSse(r.text);
  assert.equal(ev.at(-1).raw, '[DONE]');
  assert.equal(ev.slice(0, -1).map((e) => e.data.choices[0]?.delta?.content ?? '').join(''), 'echo: slow answer');
});

test('chunks reach the client as they arrive; a hang-up cancels the upstream call', async (t) => {
  dumpOnFailure(t, gw);
  await s.clearRequests();
  await s.script({ match: { model: MODEL, op: 'converse-stream' }, event_delay_ms: 250 });
  const url = new URL(gw.url + '/v1/chat/completions');
  const body = JSON.stringify({ model: 'blue-model', stream: true, messages: ask('a b c d e f g h i j') });
  // Read until the first content chunk, timing arrivals, then hang up.
  const arrivals = [];
  await new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${builder.key}`, 'content-type': 'application/json' } }, (res) => {
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['x-accel-buffering'], 'no');
      res.on('data', (chunk) => {
        arrivals.push([Date.now(), chunk.toString()]);
        if (arrivals.map((a) => a[1]).join('').includes('"content":"echo: "')) {
          req.destroy();
          resolve();
        }
      });
      res.on('error', () => {});
    });
    req.on('error', (e) => { if (!req.destroyed) reject(e); });
    req.end(body);
  });
  // The first chunks came at once, not after the whole (2.5 s) answer.
  assert.ok(arrivals.at(-1)[0] - arrivals[0][0] < 1500, JSON.stringify(arrivals.map((a) => a[0] - arrivals[0][0])));
  // The fake sees its stream torn down: it stops writing events long before the 13 it would send.
  const entry = await eventually(async () => {
    const log = (await s.requests()).filter((e) => e.op === 'converse-stream');
    return log.length === 1 ? log[0] : null;
  }, { what: 'the stream request in the fake log' });
  await new Promise((r) => setTimeout(r, 1000));
  const after = (await s.requests()).find((e) => e.op === 'converse-stream');
  assert.ok(after.events < 8, `upstream kept streaming after the client left: ${JSON.stringify(after)} (first seen ${entry.events})`);
  await s.clearScripts();
});
