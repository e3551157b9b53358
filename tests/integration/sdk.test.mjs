// Compatibility with the real client libraries the contract was written against (client-api.md
// §9.8): the `openai` (6.49.0) and `writer-sdk` (2.3.2) npm packages, unmodified, pointed at the
// gateway, listing, chatting, streaming (also through their stream helpers), tools, completing,
// and raising the contract's errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Writer from 'writer-sdk';
import { dumpOnFailure } from './lib/gateway.mjs';
import { startStack, createCredential, createTeam, addModels, createUser } from './lib/stack.mjs';

const MODEL = 'amazon.nova-lite-v1:0';
let s, gw, key, openai, writer;

before(async () => {
  s = await startStack();
  gw = s.gw;
  await createCredential(gw, 'main');
  await createTeam(gw, 'team-a');
  await createTeam(gw, 'team-b');
  await addModels(gw, 'main', [{ provider_model_id: MODEL, id: 'nova', name: 'Nova Lite' }], { teams: ['team-a'] });
  await addModels(gw, 'main', [{ provider_model_id: 'amazon.nova-micro-v1:0', id: 'private', name: 'Private' }], { teams: ['team-b'] });
  ({ key } = await createUser(gw, 'builder', ['team-a']));
  openai = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 2 });
  writer = new Writer({ apiKey: key, baseURL: gw.url, maxRetries: 2 });
});
after(async () => { await s.stop(); });

const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Current weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];

test('openai: models, chat, stream, stream helper, tools, completions', async (t) => {
  dumpOnFailure(t, gw);
  const page = await openai.models.list();
  assert.deepEqual(page.data.map((m) => m.id), ['nova']);
  assert.equal(page.data[0].owned_by, 'bedrock');

  const c = await openai.chat.completions.create({ model: 'nova', messages: [{ role: 'user', content: 'hello openai' }] });
  assert.equal(c.choices[0].message.content, 'echo: hello openai');
  assert.equal(c.choices[0].finish_reason, 'stop');
  assert.ok(c._request_id);
  assert.ok(c.usage.total_tokens > 0);

  let text = '';
  let usage = null;
  const stream = await openai.chat.completions.create({ model: 'nova', stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'stream me please' }] });
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, 'echo: stream me please');
  assert.ok(usage && usage.total_tokens > 0);

  const helper = openai.chat.completions.stream({ model: 'nova', messages: [{ role: 'user', content: 'helper works' }] });
  const final = await helper.finalChatCompletion();
  assert.equal(final.choices[0].message.content, 'echo: helper works');

  const toolRun = openai.chat.completions.stream({ model: 'nova', tools, messages: [{ role: 'user', content: 'use the tool please' }] });
  const toolFinal = await toolRun.finalChatCompletion();
  assert.equal(toolFinal.choices[0].finish_reason, 'tool_calls');
  assert.equal(toolFinal.choices[0].message.tool_calls[0].function.name, 'get_weather');

  const cmpl = await openai.completions.create({ model: 'nova', prompt: 'Once upon a time' });
  assert.equal(cmpl.choices[0].text, 'echo: Once upon a time');
  let ctext = '';
  for await (const chunk of await openai.completions.create({ model: 'nova', prompt: 'streamed prompt', stream: true })) {
    ctext += chunk.choices[0]?.text ?? '';
  }
  assert.equal(ctext, 'echo: streamed prompt');
});

test('openai: errors carry status, code and the request id; upstream auth is not retried', async (t) => {
  dumpOnFailure(t, gw);
  await assert.rejects(openai.chat.completions.create({ model: 'private', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.PermissionDeniedError && e.code === 'model_access_denied' && e.param === 'model' && !!e.requestID);
  await assert.rejects(openai.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
  await assert.rejects(new OpenAI({ apiKey: 'mg_bad', baseURL: `${gw.url}/v1` }).models.list(),
    (e) => e instanceof OpenAI.AuthenticationError && e.code === 'invalid_api_key');
  await assert.rejects(openai.chat.completions.create({ model: 'nova', n: 3, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.BadRequestError && e.code === 'unsupported_parameter' && e.param === 'n');

  await s.clearRequests();
  await s.script({ match: { model: MODEL, op: 'converse' }, error: 'UnrecognizedClientException' });
  await assert.rejects(openai.chat.completions.create({ model: 'nova', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e.status === 502 && e.code === 'upstream_auth_failed');
  // x-should-retry: false: one attempt, although the SDK retries 5xx twice by default.
  assert.equal((await s.requests()).filter((r) => r.op === 'converse').length, 1);
  await s.clearScripts();
  // The rejected credentials took the model out of the pool; a 503 with Retry-After would make
  // the SDK wait out the cooldown before the next call. Check it now to bring it back.
  const check = await gw.call('POST', '/admin/v1/models/nova/health-check', { body: {} });
  assert.equal(check.status, 200, check.text);
  assert.deepEqual([check.body.health.status, check.body.health.in_pool], ['healthy', true]);

  // A late stream failure raises while iterating.
  await s.script({ match: { model: MODEL, op: 'converse-stream' }, error: 'ModelStreamErrorException', after_events: 2 });
  const stream = await openai.chat.completions.create({ model: 'nova', stream: true, messages: [{ role: 'user', content: 'a b c d' }] });
  await assert.rejects((async () => { for await (const _ of stream) { /* drain */ } })(), (e) => /error/i.test(e.message));
  await s.clearScripts();
});

test('writer-sdk: models, chat, stream, stream helper, tools, completions', async (t) => {
  dumpOnFailure(t, gw);
  const list = await writer.models.list();
  assert.deepEqual(list.models, [{ id: 'nova', name: 'Nova Lite' }]);

  const c = await writer.chat.chat({ model: 'nova', messages: [{ role: 'user', content: 'hello writer' }] });
  assert.equal(c.choices[0].message.content, 'echo: hello writer');
  assert.equal(c.choices[0].finish_reason, 'stop');

  let text = '';
  for await (const chunk of await writer.chat.chat({ model: 'nova', stream: true, messages: [{ role: 'user', content: 'writer streams' }] })) {
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.equal(text, 'echo: writer streams');

  const helper = writer.chat.stream({ model: 'nova', messages: [{ role: 'user', content: 'writer helper' }] });
  const final = await helper.finalChatCompletion();
  assert.equal(final.choices[0].message.content, 'echo: writer helper');

  const tc = await writer.chat.chat({ model: 'nova', tools, tool_choice: { value: 'auto' },
    messages: [{ role: 'user', content: 'use the tool' }] });
  assert.equal(tc.choices[0].finish_reason, 'tool_calls');
  assert.equal(tc.choices[0].message.content, '');  // [W] types content as a string
  assert.equal(tc.choices[0].message.tool_calls[0].function.name, 'get_weather');

  const cmpl = await writer.completions.create({ model: 'nova', prompt: 'Writer prompt' });
  assert.equal(cmpl.choices[0].text, 'echo: Writer prompt');
  let ctext = '';
  for await (const chunk of await writer.completions.create({ model: 'nova', prompt: 'writer streamed', stream: true })) {
    ctext += chunk.value;
  }
  assert.equal(ctext, 'echo: writer streamed');
});

test('writer-sdk: errors carry the status and the contract message', async (t) => {
  dumpOnFailure(t, gw);
  await assert.rejects(writer.chat.chat({ model: 'private', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Writer.PermissionDeniedError && /not available to your team/.test(e.message));
  await assert.rejects(writer.chat.chat({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Writer.NotFoundError && /does not exist/.test(e.message));
  await s.script({ match: { model: MODEL, op: 'converse-stream' }, error: 'InternalServerException', after_events: 2 });
  const stream = await writer.chat.chat({ model: 'nova', stream: true, messages: [{ role: 'user', content: 'a b c d' }] });
  await assert.rejects((async () => { for await (const _ of stream) { /* drain */ } })(), (e) => e instanceof Writer.APIError);
  await s.clearScripts();
});
