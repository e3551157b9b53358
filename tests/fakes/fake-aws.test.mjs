// Self-test of the fake AWS: SigV4 against the official and Bedrock vectors, event-stream framing
// against the recorded frames, and every route over real HTTP.
//   node --test tests/fakes/fake-aws.test.mjs
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  signRequest, verifySignature, parseAuthorization, canonicalUri, canonicalQuery,
} from './sigv4.mjs';
import {
  startFakeAws, encodeMessage, decodeEventStream, DEFAULT_KEY_ID, DEFAULT_SECRET, DEFAULT_ROLE_ARN,
} from './fake-aws.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATA = process.env.MG_TEST_DATA_DIR || path.join(HERE, '..', 'data');
const SUITE = path.join(DATA, 'sigv4', 'aws4_testsuite');
const BEDROCK_CASES = path.join(DATA, 'sigv4', 'bedrock-cases.json');
const ES_DIR = path.join(DATA, 'eventstream');

// ---------------------------------------------------------------------------------------------
// SigV4: official suite

function suiteCases(dir) {
  const out = [];
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const p = path.join(dir, e.name);
    if (fs.existsSync(path.join(p, `${e.name}.req`))) out.push(p);
    else out.push(...suiteCases(p));
  }
  return out.sort();
}

/** Parse an aws4_testsuite .req file (raw request line with possible spaces, folded headers). */
function parseReq(raw) {
  const idx = raw.indexOf('\n\n');
  const head = idx < 0 ? raw : raw.slice(0, idx);
  const body = idx < 0 ? '' : raw.slice(idx + 2);
  const lines = head.split('\n').filter((l) => l.length > 0);
  const first = lines.shift();
  const sp = first.indexOf(' ');
  const method = first.slice(0, sp);
  const target = first.slice(sp + 1).replace(/ HTTP\/1\.1$/, '');
  const q = target.indexOf('?');
  const headers = [];
  for (const l of lines) {
    if (/^[ \t]/.test(l)) { headers[headers.length - 1][1] += `\n${l}`; continue; }
    const c = l.indexOf(':');
    headers.push([l.slice(0, c), l.slice(c + 1)]);
  }
  return { method, path: q < 0 ? target : target.slice(0, q), query: q < 0 ? '' : target.slice(q + 1), headers, body };
}

describe('sigv4: aws4_testsuite', () => {
  const cases = suiteCases(SUITE);
  test('suite is present', () => assert.ok(cases.length >= 30, `found ${cases.length} cases in ${SUITE}`));
  for (const dir of cases) {
    const name = path.basename(dir);
    test(name, () => {
      const req = parseReq(fs.readFileSync(path.join(dir, `${name}.req`), 'utf8'));
      const creq = fs.readFileSync(path.join(dir, `${name}.creq`), 'utf8');
      const sts = fs.readFileSync(path.join(dir, `${name}.sts`), 'utf8');
      const authz = fs.readFileSync(path.join(dir, `${name}.authz`), 'utf8').trim();
      const token = (/^x-amz-security-token:(.*)$/m.exec(creq) || [])[1];
      const headers = {};
      for (const [k, v] of req.headers) {
        const lk = k.toLowerCase();
        headers[lk] = headers[lk] === undefined ? v : [].concat(headers[lk], v);
      }
      const r = signRequest({ method: req.method, path: req.path, query: req.query, headers, body: req.body,
        accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: token,
        region: 'us-east-1', service: 'service', date: '2015-08-30T12:36:00Z' });
      assert.equal(r.canonicalRequest, creq);
      assert.equal(r.stringToSign, sts);
      assert.equal(r.authorization, authz);
      // The verifier path (as the server runs it) accepts the expected Authorization.
      const pairs = [...req.headers];
      if (token && !pairs.some(([k]) => k.toLowerCase() === 'x-amz-security-token')) pairs.push(['X-Amz-Security-Token', token]);
      const v = verifySignature({ method: req.method, path: req.path, query: req.query, headers: pairs, body: Buffer.from(req.body) },
        parseAuthorization(authz), 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
      assert.equal(v.canonicalRequest, creq);
      assert.ok(v.ok);
    });
  }
});

describe('sigv4: bedrock-cases.json', () => {
  const data = fs.existsSync(BEDROCK_CASES) ? JSON.parse(fs.readFileSync(BEDROCK_CASES, 'utf8')) : { cases: [] };
  test('cases are present', () => assert.ok(data.cases.length >= 1));
  for (const c of data.cases) {
    test(c.id, () => {
      const i = c.input;
      const e = c.expected;
      const r = signRequest({ method: i.method, url: i.url, path: i.path, headers: i.headers, body: i.body,
        accessKeyId: i.access_key_id, secretAccessKey: i.secret_access_key, sessionToken: i.session_token,
        region: i.region, service: i.service, date: i.date });
      assert.equal(r.canonicalRequest, e.canonical_request);
      assert.equal(r.stringToSign, e.string_to_sign);
      assert.equal(r.signature, e.signature);
      assert.equal(r.authorization, e.authorization);
      // Verify the request as received: raw path/query from the URL, headers after signing.
      const m = /^[a-z]+:\/\/[^/?#]*([^?#]*)(?:\?([^#]*))?/i.exec(i.url);
      const recv = { method: i.method, path: m[1] || '/', query: m[2] || '', headers: e.headers_after_signing,
        body: Buffer.from(i.body ?? '', 'utf8') };
      const auth = parseAuthorization(e.authorization);
      assert.ok(!auth.error);
      assert.ok(verifySignature(recv, auth, i.secret_access_key).ok);
      assert.ok(!verifySignature(recv, auth, i.secret_access_key + 'x').ok);
      assert.ok(!verifySignature({ ...recv, body: Buffer.from((i.body ?? '') + ' ') }, auth, i.secret_access_key).ok);
    });
  }
  test('canonical URI encodes the wire path again; query once', () => {
    assert.equal(canonicalUri('/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse'),
      '/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse');
    assert.equal(canonicalUri('//example//'), '/example/');
    assert.equal(canonicalUri('/a/./b/../c'), '/a/c');
    assert.equal(canonicalQuery('b=2&a=x%20y&a=1&c'), 'a=1&a=x%20y&b=2&c=');
  });
});

// ---------------------------------------------------------------------------------------------
// Event stream

describe('eventstream: encoder reproduces recorded frames', () => {
  const cases = fs.existsSync(path.join(ES_DIR, 'cases.json')) ? JSON.parse(fs.readFileSync(path.join(ES_DIR, 'cases.json'), 'utf8')) : { messages: [], streams: [], negative: [] };
  test('cases are present', () => assert.ok(cases.messages.length >= 20));
  for (const m of cases.messages) {
    test(m.file, () => {
      const bin = fs.readFileSync(path.join(ES_DIR, m.file));
      const enc = encodeMessage(m.headers, Buffer.from(m.payload_utf8, 'utf8'));
      assert.equal(enc.toString('hex'), m.hex);
      assert.deepEqual(enc, bin);
      assert.equal(enc.readUInt32BE(8), m.prelude_crc);
      assert.equal(enc.readUInt32BE(enc.length - 4), m.message_crc);
      const [d] = decodeEventStream(bin);
      for (const h of m.headers) {
        const want = h.type === 'long' ? String(h.value) : h.value;
        assert.deepEqual(d.headers[h.name], want, h.name);
      }
      assert.equal(d.payload.toString('utf8'), m.payload_utf8);
    });
  }
  for (const s of cases.streams) {
    test(`stream ${s.file}`, () => {
      const bin = fs.readFileSync(path.join(ES_DIR, s.file));
      const joined = Buffer.concat(s.messages.map((f) => fs.readFileSync(path.join(ES_DIR, f))));
      assert.deepEqual(joined, bin);
      assert.equal(decodeEventStream(bin).length, s.messages.length);
    });
  }
  for (const n of cases.negative) {
    test(`rejects ${n.file}`, () => {
      assert.throws(() => decodeEventStream(fs.readFileSync(path.join(ES_DIR, n.file))));
    });
  }
});

// ---------------------------------------------------------------------------------------------
// HTTP

function httpRequest(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, method, path: url.slice(url.indexOf('/', 8)), headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, buf, text: buf.toString('utf8') });
      });
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('aborted')));
    });
    req.on('error', reject);
    if (body != null) req.write(body);
    req.end();
  });
}

const DEFAULT = { key: DEFAULT_KEY_ID, secret: DEFAULT_SECRET };

describe('fake over HTTP', () => {
  let fake;
  const aws = async (method, p, opts = {}) => {
    const url = fake.url + p;
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    const headers = { ...(opts.headers || {}) };
    if (body !== undefined && !headers['content-type']) headers['content-type'] = opts.service === 'sts' ? 'application/x-www-form-urlencoded; charset=utf-8' : 'application/json';
    if (opts.unsigned) return httpRequest(url, { method, headers, body });
    const s = signRequest({ method, url, headers, body, accessKeyId: opts.key ?? DEFAULT.key,
      secretAccessKey: opts.secret ?? DEFAULT.secret, sessionToken: opts.token, region: opts.region ?? 'us-east-1',
      service: opts.service ?? 'bedrock', date: opts.date, contentSha256: opts.contentSha256 });
    if (opts.dropToken) delete s.headers['x-amz-security-token'];
    return httpRequest(url, { method, headers: { ...s.headers, 'user-agent': 'fake-aws-test' }, body });
  };
  const ctl = async (method, p, body) => {
    const r = await httpRequest(fake.url + p, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, json: r.text ? JSON.parse(r.text) : null };
  };
  const enc = (id) => encodeURIComponent(id).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const converse = (model, body, opts = {}) => aws('POST', `/model/${enc(model)}/${opts.stream ? 'converse-stream' : 'converse'}`, { ...opts, body });
  const userMsg = (text) => ({ messages: [{ role: 'user', content: [{ text }] }] });
  const errType = (r) => (r.headers['x-amzn-errortype'] || '').split(':')[0];
  const events = (r) => decodeEventStream(r.buf).map((m) => ({ headers: m.headers, type: m.headers[':event-type'] || m.headers[':exception-type'] || m.headers[':error-code'], json: m.payload.length ? JSON.parse(m.payload.toString('utf8')) : null }));
  const assumeRole = async (opts = {}) => {
    const form = `Action=AssumeRole&Version=2011-06-15&RoleArn=${enc(opts.roleArn ?? DEFAULT_ROLE_ARN)}&RoleSessionName=${opts.session ?? 'enterprise-gateway'}&DurationSeconds=3600${opts.externalId ? `&ExternalId=${enc(opts.externalId)}` : ''}`;
    const r = await aws('POST', '/', { body: form, service: 'sts', ...opts });
    const g = (n) => (new RegExp(`<${n}>([^<]*)</${n}>`).exec(r.text) || [])[1];
    return { r, key: g('AccessKeyId'), secret: g('SecretAccessKey'), token: g('SessionToken'), expiration: g('Expiration'), code: g('Code') };
  };

  before(async () => {
    fake = await startFakeAws({
      keys: { AKIDLIMITED: { secret: 'limited-secret', allow_models: ['amazon.nova-lite-v1:0'], allow_list: false } },
      roles: {
        'arn:aws:iam::123456789012:role/short': { sources: [DEFAULT_KEY_ID], lifetime_s: 900 },
        'arn:aws:iam::123456789012:role/ext': { sources: [DEFAULT_KEY_ID], external_id: 'ext-123' },
      },
    });
  });
  after(async () => { await fake.close(); });

  test('health and unknown operation', async () => {
    assert.equal((await ctl('GET', '/__fake/health')).status, 200);
    const r = await aws('GET', '/nope');
    assert.equal(r.status, 404);
    assert.equal(errType(r), 'UnknownOperationException');
    const slash = await aws('POST', '/model/arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0/converse', { body: userMsg('x') });
    assert.equal(errType(slash), 'UnknownOperationException');
  });

  test('converse: echo, usage, shape', async () => {
    const r = await converse('amazon.nova-lite-v1:0', { ...userMsg('What is the weather in Paris?'), system: [{ text: 'Be brief.' }] });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers['content-type'], /application\/json/);
    assert.ok(r.headers['x-amzn-requestid']);
    const j = JSON.parse(r.text);
    assert.deepEqual(j.output.message, { role: 'assistant', content: [{ text: 'echo: What is the weather in Paris?' }] });
    assert.equal(j.stopReason, 'end_turn');
    assert.deepEqual(j.usage, { inputTokens: 6, outputTokens: 7, totalTokens: 13 });
    assert.equal(typeof j.metrics.latencyMs, 'number');
  });

  test('converse: multi-turn input tokens, max_tokens, stop sequence, health probe', async () => {
    const body = { messages: [
      { role: 'user', content: [{ text: 'one two' }] },
      { role: 'assistant', content: [{ text: 'three' }] },
      { role: 'user', content: [{ text: 'four five six' }] }], inferenceConfig: { maxTokens: 2 } };
    let j = JSON.parse((await converse('anthropic.claude-3-haiku-20240307-v1:0', body)).text);
    assert.equal(j.output.message.content[0].text, 'echo: four');
    assert.equal(j.stopReason, 'max_tokens');
    assert.deepEqual(j.usage, { inputTokens: 6, outputTokens: 2, totalTokens: 8 });
    j = JSON.parse((await converse('amazon.nova-pro-v1:0', { ...userMsg('ping'), inferenceConfig: { maxTokens: 1 } })).text);
    assert.equal(j.stopReason, 'max_tokens');
    assert.ok(j.output.message && j.usage);
    j = JSON.parse((await converse('amazon.nova-pro-v1:0', { ...userMsg('a b END c'), inferenceConfig: { stopSequences: ['END'] } })).text);
    assert.equal(j.stopReason, 'stop_sequence');
    assert.equal(j.output.message.content[0].text, 'echo: a b ');
  });

  test('converse: tool use and tool result round trip', async () => {
    const toolConfig = { tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } },
      { toolSpec: { name: 'other', inputSchema: { json: { type: 'object' } } } }] };
    const r = await converse('amazon.nova-lite-v1:0', { ...userMsg('Please use the tool now'), toolConfig });
    const j = JSON.parse(r.text);
    assert.equal(j.stopReason, 'tool_use');
    const tu = j.output.message.content[0].toolUse;
    assert.equal(tu.name, 'get_weather');
    assert.deepEqual(tu.input, {});
    assert.match(tu.toolUseId, /^[a-zA-Z0-9_.:-]{1,64}$/);
    const r2 = await converse('amazon.nova-lite-v1:0', { toolConfig, messages: [
      { role: 'user', content: [{ text: 'Please use the tool now' }] },
      { role: 'assistant', content: [{ toolUse: tu }] },
      { role: 'user', content: [{ toolResult: { toolUseId: tu.toolUseId, content: [{ text: 'sunny' }], status: 'success' } }] }] });
    const j2 = JSON.parse(r2.text);
    assert.equal(j2.stopReason, 'end_turn');
    assert.equal(j2.output.message.content[0].text, 'echo: sunny');
    // Without tools, "use the tool" is just echoed.
    const j3 = JSON.parse((await converse('amazon.nova-lite-v1:0', userMsg('use the tool'))).text);
    assert.equal(j3.stopReason, 'end_turn');
  });

  test('converse: validation checks 1-5', async () => {
    const bad = [
      { messages: [{ role: 'assistant', content: [{ text: 'hi' }] }] },
      { messages: [{ role: 'user', content: [{ text: 'a' }] }, { role: 'user', content: [{ text: 'b' }] }] },
      { messages: [{ role: 'user', content: [{ text: '   ' }] }] },
      { messages: [{ role: 'user', content: [{ text: 'a' }] }, { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'f', input: {} } }] }] },
      { ...userMsg('x'), inferenceConfig: { temperature: 1.5 } },
      { ...userMsg('x'), inferenceConfig: { topP: -0.1 } },
      {},
    ];
    for (const b of bad) {
      const r = await converse('amazon.nova-lite-v1:0', b);
      assert.equal(r.status, 400, JSON.stringify(b));
      assert.equal(errType(r), 'ValidationException');
      assert.ok(JSON.parse(r.text).message);
    }
    const r = await aws('POST', '/model/amazon.nova-lite-v1%3A0/converse', { body: '{not json' });
    assert.equal(errType(r), 'ValidationException');
  });

  test('converse: model identifiers', async () => {
    const ok = ['us.anthropic.claude-3-5-sonnet-20241022-v2:0', 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0',
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0', 'anthropic.claude-v2:1'];
    for (const id of ok) assert.equal((await converse(id, userMsg('hi'))).status, 200, id);
    const cases = [
      ['anthropic.claude-3-5-sonnet-20241022-v2:0', 400, 'ValidationException', /on-demand throughput isn't supported/],
      ['anthropic.claude-3-haiku-20240307-v1:0:200k', 400, 'ValidationException', /model identifier is invalid/],
      ['no.such-model-v1:0', 400, 'ValidationException', /model identifier is invalid/],
      ['amazon.titan-image-generator-v2:0', 400, 'ValidationException', /text or chat model/],
      ['anthropic.claude-instant-v1', 404, 'ResourceNotFoundException', /end of its life/],
      ['eu.anthropic.claude-3-7-sonnet-20250219-v1:0', 400, 'ValidationException', /invalid/],
    ];
    for (const [id, status, name, msg] of cases) {
      const r = await converse(id, userMsg('hi'));
      assert.equal(r.status, status, id);
      assert.equal(errType(r), name, id);
      assert.match(JSON.parse(r.text).message, msg, id);
    }
    // Available in us-east-1 but not eu-west-1.
    assert.equal((await converse('meta.llama3-8b-instruct-v1:0', userMsg('hi'))).status, 200);
    const eu = await converse('meta.llama3-8b-instruct-v1:0', userMsg('hi'), { region: 'eu-west-1' });
    assert.equal(errType(eu), 'ResourceNotFoundException');
    assert.equal((await converse('eu.anthropic.claude-3-7-sonnet-20250219-v1:0', userMsg('hi'), { region: 'eu-west-1' })).status, 200);
  });

  test('converse: per-key model permissions', async () => {
    assert.equal((await converse('amazon.nova-lite-v1:0', userMsg('hi'), { key: 'AKIDLIMITED', secret: 'limited-secret' })).status, 200);
    const r = await converse('amazon.nova-pro-v1:0', userMsg('hi'), { key: 'AKIDLIMITED', secret: 'limited-secret' });
    assert.equal(r.status, 403);
    assert.equal(errType(r), 'AccessDeniedException');
    assert.match(JSON.parse(r.text).message, /not authorized to perform: bedrock:InvokeModel/);
    const l = await aws('GET', '/foundation-models', { key: 'AKIDLIMITED', secret: 'limited-secret' });
    assert.equal(errType(l), 'AccessDeniedException');
  });

  test('converse-stream: framing, padding, >= 2 deltas, metadata', async () => {
    const r = await converse('anthropic.claude-3-haiku-20240307-v1:0', userMsg('Hello wörld ✓'), { stream: true });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/vnd.amazon.eventstream');
    const ev = events(r);
    const types = ev.map((e) => e.type);
    assert.equal(types[0], 'messageStart');
    assert.deepEqual(types.slice(-3), ['contentBlockStop', 'messageStop', 'metadata']);
    const deltas = ev.filter((e) => e.type === 'contentBlockDelta');
    assert.ok(deltas.length >= 2);
    assert.equal(deltas.map((d) => d.json.delta.text).join(''), 'echo: Hello wörld ✓');
    for (const e of ev) {
      assert.equal(e.headers[':message-type'], 'event');
      assert.equal(e.headers[':content-type'], 'application/json');
      assert.match(e.json.p, /^[a-zA-Z0-9]+$/);
    }
    assert.ok(new Set(ev.map((e) => e.json.p.length)).size > 1, 'padding length varies');
    assert.equal(ev.at(-2).json.stopReason, 'end_turn');
    assert.deepEqual(ev.at(-1).json.usage, { inputTokens: 3, outputTokens: 4, totalTokens: 7 });
    assert.equal(typeof ev.at(-1).json.metrics.latencyMs, 'number');
  });

  test('converse-stream: tool use', async () => {
    const toolConfig = { tools: [{ toolSpec: { name: 'lookup', inputSchema: { json: { type: 'object' } } } }] };
    const ev = events(await converse('amazon.nova-pro-v1:0', { ...userMsg('use the tool'), toolConfig }, { stream: true }));
    const start = ev.find((e) => e.type === 'contentBlockStart');
    assert.equal(start.json.start.toolUse.name, 'lookup');
    const input = ev.filter((e) => e.type === 'contentBlockDelta').map((e) => e.json.delta.toolUse.input).join('');
    assert.deepEqual(JSON.parse(input), {});
    assert.equal(ev.find((e) => e.type === 'messageStop').json.stopReason, 'tool_use');
  });

  test('ListFoundationModels: fixtures and filters', async () => {
    const list = async (q = '', region) => JSON.parse((await aws('GET', `/foundation-models${q}`, { region })).text).modelSummaries;
    const all = await list();
    const ids = all.map((m) => m.modelId);
    for (const id of ['amazon.nova-lite-v1:0', 'amazon.nova-pro-v1:0', 'anthropic.claude-3-haiku-20240307-v1:0',
      'anthropic.claude-3-5-sonnet-20241022-v2:0', 'amazon.titan-image-generator-v2:0']) assert.ok(ids.includes(id), id);
    for (const m of all) {
      assert.ok(m.modelArn && m.modelId);
      assert.equal(m.modelArn, `arn:aws:bedrock:us-east-1::foundation-model/${m.modelId}`);
    }
    const by = (id) => all.find((m) => m.modelId === id);
    assert.deepEqual(by('anthropic.claude-3-5-sonnet-20241022-v2:0').inferenceTypesSupported, ['INFERENCE_PROFILE']);
    assert.ok(all.some((m) => m.modelLifecycle.status === 'LEGACY'));
    assert.ok(all.some((m) => m.modelLifecycle.status === 'ACTIVE'));
    assert.ok(all.some((m) => m.inferenceTypesSupported.join() === 'PROVISIONED'));
    assert.deepEqual(by('amazon.titan-image-generator-v2:0').outputModalities, ['IMAGE']);
    assert.ok(by('anthropic.claude-3-haiku-20240307-v1:0').inferenceTypesSupported.includes('ON_DEMAND'));
    const eu = (await list('', 'eu-west-1')).map((m) => m.modelId);
    assert.ok(ids.some((id) => !eu.includes(id)));
    const anth = await list('?byProvider=Anthropic');
    assert.ok(anth.length > 0 && anth.every((m) => m.providerName === 'Anthropic'));
    const img = await list('?byOutputModality=IMAGE');
    assert.ok(img.length > 0 && img.every((m) => m.outputModalities.includes('IMAGE')));
    const prov = await list('?byInferenceType=PROVISIONED');
    assert.ok(prov.length > 0 && prov.every((m) => m.inferenceTypesSupported.includes('PROVISIONED')));
    const ft = await list('?byCustomizationType=CONTINUED_PRE_TRAINING');
    assert.ok(ft.length > 0 && ft.every((m) => m.customizationsSupported.includes('CONTINUED_PRE_TRAINING')));
    const combo = await list('?byProvider=Stability%20AI&byOutputModality=IMAGE', 'us-west-2');
    assert.ok(combo.length > 0 && combo.every((m) => m.providerName === 'Stability AI'));
    const bad = await aws('GET', '/foundation-models?byInferenceType=SOMETIMES');
    assert.equal(errType(bad), 'ValidationException');
  });

  test('GetFoundationModel and ListInferenceProfiles', async () => {
    let r = await aws('GET', `/foundation-models/${enc('anthropic.claude-3-haiku-20240307-v1:0')}`);
    assert.equal(JSON.parse(r.text).modelDetails.modelId, 'anthropic.claude-3-haiku-20240307-v1:0');
    r = await aws('GET', `/foundation-models/${enc('arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0')}`);
    assert.equal(JSON.parse(r.text).modelDetails.modelId, 'amazon.nova-lite-v1:0');
    r = await aws('GET', `/foundation-models/${enc('nope')}`);
    assert.equal(r.status, 404);
    assert.equal(errType(r), 'ResourceNotFoundException');
    const seen = [];
    let token;
    do {
      const j = JSON.parse((await aws('GET', `/inference-profiles?type=SYSTEM_DEFINED&maxResults=2${token ? `&nextToken=${enc(token)}` : ''}`)).text);
      assert.ok(j.inferenceProfileSummaries.length <= 2);
      seen.push(...j.inferenceProfileSummaries);
      token = j.nextToken;
    } while (token);
    const p = seen.find((x) => x.inferenceProfileId === 'us.anthropic.claude-3-5-sonnet-20241022-v2:0');
    assert.ok(p);
    assert.equal(p.type, 'SYSTEM_DEFINED');
    assert.equal(p.status, 'ACTIVE');
    assert.ok(p.models.length >= 1 && p.models[0].modelArn.includes('foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0'));
    const eu = JSON.parse((await aws('GET', '/inference-profiles?type=SYSTEM_DEFINED&maxResults=1000', { region: 'eu-west-1' })).text);
    assert.ok(eu.inferenceProfileSummaries.every((x) => x.inferenceProfileId.startsWith('eu.')));
  });

  test('auth failures map to §7.2 names', async () => {
    const body = userMsg('hi');
    let r = await aws('POST', '/model/amazon.nova-lite-v1%3A0/converse', { body, unsigned: true });
    assert.equal(r.status, 403);
    assert.equal(errType(r), 'MissingAuthenticationTokenException');
    r = await converse('amazon.nova-lite-v1:0', body, { secret: 'wrong' });
    assert.equal(errType(r), 'InvalidSignatureException');
    assert.equal(r.status, 403);
    r = await converse('amazon.nova-lite-v1:0', body, { key: 'AKIDUNKNOWN' });
    assert.equal(errType(r), 'UnrecognizedClientException');
    r = await converse('amazon.nova-lite-v1:0', body, { region: 'sa-east-9' });
    assert.equal(errType(r), 'UnrecognizedClientException');
    r = await converse('amazon.nova-lite-v1:0', body, { service: 'bedrock-runtime' });
    assert.equal(errType(r), 'InvalidSignatureException');
    assert.match(JSON.parse(r.text).message, /scoped to correct service/);
    r = await converse('amazon.nova-lite-v1:0', body, { date: Date.now() - 10 * 60 * 1000 });
    assert.match(JSON.parse(r.text).message, /^Signature expired/);
    r = await converse('amazon.nova-lite-v1:0', body, { date: Date.now() + 10 * 60 * 1000 });
    assert.match(JSON.parse(r.text).message, /^Signature not yet current/);
    r = await converse('amazon.nova-lite-v1:0', body, { date: Date.now() - 4 * 60 * 1000, contentSha256: true });
    assert.equal(r.status, 200);
    r = await aws('POST', '/model/amazon.nova-lite-v1%3A0/converse', { body, headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIDMODELGATETEST/20240101/us-east-1/bedrock/aws4_request' }, unsigned: true });
    assert.equal(errType(r), 'IncompleteSignatureException');
    // a token sent with a permanent key is rejected
    r = await converse('amazon.nova-lite-v1:0', body, { token: 'bogus' });
    assert.equal(errType(r), 'UnrecognizedClientException');
  });

  test('control: clock offset and keys', async () => {
    await ctl('POST', '/__fake/clock', { offset_s: 3600 });
    let r = await converse('amazon.nova-lite-v1:0', userMsg('hi'));
    assert.match(JSON.parse(r.text).message, /Signature expired/);
    assert.equal((await converse('amazon.nova-lite-v1:0', userMsg('hi'), { date: Date.now() + 3600 * 1000 })).status, 200);
    await ctl('POST', '/__fake/clock', { offset_s: 0 });
    assert.equal((await ctl('POST', '/__fake/keys', { id: 'AKIDNEW', secret: 'new-secret' })).status, 200);
    assert.equal((await converse('amazon.nova-lite-v1:0', userMsg('hi'), { key: 'AKIDNEW', secret: 'new-secret' })).status, 200);
    await ctl('POST', '/__fake/keys', { id: 'AKIDNEW', secret: 'new-secret', revoked: true });
    r = await converse('amazon.nova-lite-v1:0', userMsg('hi'), { key: 'AKIDNEW', secret: 'new-secret' });
    assert.equal(r.status, 403);
    assert.equal(errType(r), 'UnrecognizedClientException');
  });

  test('STS AssumeRole and temporary credentials', async () => {
    const a = await assumeRole();
    assert.equal(a.r.status, 200, a.r.text);
    assert.match(a.r.headers['content-type'], /text\/xml/);
    assert.match(a.key, /^ASIA[A-Z0-9]{16}$/);
    assert.ok(a.secret && a.token);
    const lifetime = Date.parse(a.expiration) - Date.now();
    assert.ok(lifetime > 3590 * 1000 && lifetime <= 3600 * 1000, String(lifetime));
    assert.match(a.r.text, /<Arn>arn:aws:sts::123456789012:assumed-role\/modelgate-test\/enterprise-gateway<\/Arn>/);
    const creds = { key: a.key, secret: a.secret, token: a.token };
    assert.equal((await converse('amazon.nova-lite-v1:0', userMsg('hi'), creds)).status, 200);
    assert.equal((await aws('GET', '/foundation-models', creds)).status, 200);
    let r = await converse('amazon.nova-lite-v1:0', userMsg('hi'), { ...creds, dropToken: true });
    assert.equal(errType(r), 'UnrecognizedClientException');
    r = await converse('amazon.nova-lite-v1:0', userMsg('hi'), { ...creds, token: a.token + 'x' });
    assert.equal(errType(r), 'UnrecognizedClientException');
    // Role chaining with temporary source credentials is allowed for listed sources.
    const chained = await assumeRole({ ...creds });
    assert.equal(chained.r.status, 200);
    // Expiry: advance the fake clock past the lifetime (and sign at that time).
    await ctl('POST', '/__fake/clock', { offset_s: 3700 });
    r = await converse('amazon.nova-lite-v1:0', userMsg('hi'), { ...creds, date: Date.now() + 3700 * 1000 });
    assert.equal(r.status, 403);
    assert.equal(errType(r), 'ExpiredTokenException');
    await ctl('POST', '/__fake/clock', { offset_s: 0 });
    // Short-lived role.
    const s = await assumeRole({ roleArn: 'arn:aws:iam::123456789012:role/short' });
    assert.ok(Date.parse(s.expiration) - Date.now() <= 900 * 1000);
    // External id.
    assert.equal((await assumeRole({ roleArn: 'arn:aws:iam::123456789012:role/ext' })).code, 'AccessDenied');
    assert.equal((await assumeRole({ roleArn: 'arn:aws:iam::123456789012:role/ext', externalId: 'ext-123' })).r.status, 200);
  });

  test('STS errors are XML', async () => {
    let a = await assumeRole({ roleArn: 'arn:aws:iam::123456789012:role/unknown' });
    assert.equal(a.r.status, 403);
    assert.equal(a.code, 'AccessDenied');
    assert.match(a.r.text, /<ErrorResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/"><Error>|<Type>Sender<\/Type>/);
    a = await assumeRole({ secret: 'wrong' });
    assert.equal(a.r.status, 403);
    assert.equal(a.code, 'SignatureDoesNotMatch');
    a = await assumeRole({ key: 'AKIDNOPE' });
    assert.equal(a.code, 'InvalidClientTokenId');
    a = await assumeRole({ service: 'bedrock' });
    assert.equal(a.code, 'SignatureDoesNotMatch');
    a = await assumeRole({ session: 'x' });
    assert.equal(a.code, 'ValidationError');
    a = await assumeRole({ key: 'AKIDLIMITED', secret: 'limited-secret' });
    assert.equal(a.code, 'AccessDenied');
  });

  test('scripts: HTTP errors, times, key and model matching', async () => {
    await ctl('DELETE', '/__fake/script');
    const { json } = await ctl('POST', '/__fake/script', { match: { model: 'amazon.nova-lite-v1:0' }, error: 'ThrottlingException', times: 1 });
    assert.ok(json.id);
    let r = await converse('amazon.nova-lite-v1:0', userMsg('hi'));
    assert.equal(r.status, 429);
    assert.equal(errType(r), 'ThrottlingException');
    assert.equal((await converse('amazon.nova-lite-v1:0', userMsg('hi'))).status, 200);
    // Matched through an ARN that resolves to the scripted model id.
    await ctl('POST', '/__fake/script', { match: { model: 'amazon.nova-pro-v1:0', op: 'converse' }, error: 'AccessDeniedException', message: 'nope' });
    r = await converse('arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0', userMsg('hi'));
    assert.equal(r.status, 403);
    assert.deepEqual(JSON.parse(r.text), { message: 'nope' });
    assert.equal((await converse('amazon.nova-pro-v1:0', userMsg('hi'), { stream: true })).status, 200, 'op filter');
    await ctl('DELETE', '/__fake/script');
    await ctl('POST', '/__fake/script', { match: { key: 'AKIDLIMITED' }, error: 'ServiceUnavailableException' });
    r = await converse('amazon.nova-lite-v1:0', userMsg('hi'), { key: 'AKIDLIMITED', secret: 'limited-secret' });
    assert.equal(r.status, 503);
    assert.equal((await converse('amazon.nova-lite-v1:0', userMsg('hi'))).status, 200);
    await ctl('DELETE', '/__fake/script');
    for (const [name, status] of [['ModelNotReadyException', 429], ['InternalServerException', 500], ['ResourceNotFoundException', 404],
      ['ValidationException', 400], ['ExpiredTokenException', 403], ['UnrecognizedClientException', 403], ['ModelTimeoutException', 408]]) {
      await ctl('POST', '/__fake/script', { error: name, times: 1 });
      r = await converse('amazon.nova-lite-v1:0', userMsg('hi'));
      assert.equal(r.status, status, name);
      assert.equal(errType(r), name);
    }
    await ctl('POST', '/__fake/script', { error: 'ThrottlingException', status: 400, times: 1 });
    assert.equal((await converse('amazon.nova-lite-v1:0', userMsg('hi'))).status, 400);
    // Control-plane and STS scripts.
    await ctl('POST', '/__fake/script', { match: { op: 'list' }, error: 'InternalServerException', times: 1 });
    assert.equal((await aws('GET', '/foundation-models')).status, 500);
    await ctl('POST', '/__fake/script', { match: { op: 'assume-role' }, error: 'RegionDisabledException', times: 1 });
    const a = await assumeRole();
    assert.equal(a.r.status, 403);
    assert.equal(a.code, 'RegionDisabledException');
    await ctl('POST', '/__fake/script', { match: { op: 'assume-role' }, error: 'ThrottlingException', times: 1 });
    assert.equal((await assumeRole()).code, 'Throttling');
  });

  test('scripts: stream exceptions mid-way, before start, drop, corrupt, delay', async () => {
    await ctl('DELETE', '/__fake/script');
    await ctl('POST', '/__fake/script', { match: { op: 'converse-stream' }, error: 'ThrottlingException', after_events: 2, times: 1 });
    let r = await converse('amazon.nova-lite-v1:0', userMsg('a b c d'), { stream: true });
    assert.equal(r.status, 200);
    let ev = events(r);
    assert.equal(ev.length, 3);
    assert.equal(ev[2].headers[':message-type'], 'exception');
    assert.equal(ev[2].headers[':exception-type'], 'throttlingException');
    assert.ok(ev[2].json.message);

    await ctl('POST', '/__fake/script', { match: { op: 'converse-stream' }, error: 'ModelStreamErrorException', after_events: 0, times: 1 });
    ev = events(await converse('amazon.nova-lite-v1:0', userMsg('x'), { stream: true }));
    assert.equal(ev.length, 1);
    assert.equal(ev[0].headers[':exception-type'], 'modelStreamErrorException');
    assert.equal(ev[0].json.originalStatusCode, 500);

    await ctl('POST', '/__fake/script', { match: { op: 'converse-stream' }, error: 'AccessDeniedException', after_events: 1, times: 1 });
    ev = events(await converse('amazon.nova-lite-v1:0', userMsg('x'), { stream: true }));
    assert.equal(ev[1].headers[':message-type'], 'error');
    assert.equal(ev[1].headers[':error-code'], 'AccessDeniedException');

    await ctl('POST', '/__fake/script', { match: { op: 'converse-stream' }, error: 'ThrottlingException', times: 1 });
    r = await converse('amazon.nova-lite-v1:0', userMsg('x'), { stream: true });
    assert.equal(r.status, 429);
    assert.equal(errType(r), 'ThrottlingException');

    await ctl('POST', '/__fake/script', { match: { op: 'converse' }, drop: true, times: 1 });
    await assert.rejects(converse('amazon.nova-lite-v1:0', userMsg('x')));

    await ctl('POST', '/__fake/script', { match: { op: 'converse-stream' }, drop: true, after_events: 2, times: 1 });
    await assert.rejects(converse('amazon.nova-lite-v1:0', userMsg('x y z'), { stream: true }));

    await ctl('POST', '/__fake/script', { match: { op: 'converse-stream' }, corrupt_frame: true, after_events: 1, times: 1 });
    r = await converse('amazon.nova-lite-v1:0', userMsg('x y z'), { stream: true });
    assert.equal(r.status, 200);
    assert.throws(() => decodeEventStream(r.buf), /crc/);
    assert.equal(decodeEventStream(r.buf.subarray(0, r.buf.readUInt32BE(0))).length, 1);

    await ctl('POST', '/__fake/script', { match: { op: 'converse' }, corrupt_frame: true, times: 1 });
    r = await converse('amazon.nova-lite-v1:0', userMsg('x'));
    assert.equal(r.status, 200);
    assert.throws(() => JSON.parse(r.text));

    // Stall after the first event, then finish normally.
    await ctl('POST', '/__fake/script', { match: { op: 'converse-stream' }, delay_ms: 300, after_events: 1, times: 1 });
    let t0 = Date.now();
    ev = events(await converse('amazon.nova-lite-v1:0', userMsg('x y'), { stream: true }));
    assert.ok(Date.now() - t0 >= 290);
    assert.equal(ev.at(-1).type, 'metadata');
    // status only: exception name inferred.
    await ctl('POST', '/__fake/script', { match: { op: 'converse' }, status: 503, times: 1 });
    r = await converse('amazon.nova-lite-v1:0', userMsg('x'));
    assert.equal(errType(r), 'ServiceUnavailableException');

    await ctl('POST', '/__fake/script', { match: { op: 'converse' }, delay_ms: 300, times: 1 });
    t0 = Date.now();
    r = await converse('amazon.nova-lite-v1:0', userMsg('x'));
    assert.equal(r.status, 200);
    assert.ok(Date.now() - t0 >= 290);
    await ctl('DELETE', '/__fake/script');
    assert.equal((await ctl('GET', '/__fake/script')).json.length, 0);
  });

  test('requests log', async () => {
    await ctl('DELETE', '/__fake/requests');
    await converse('amazon.nova-lite-v1:0', userMsg('hi'), { region: 'us-west-2' });
    await assumeRole();
    const { json } = await ctl('GET', '/__fake/requests');
    assert.equal(json.length, 2);
    assert.deepEqual({ ...json[0], time: undefined, resolved_model: undefined },
      { op: 'converse', model: 'amazon.nova-lite-v1:0', region: 'us-west-2', key: DEFAULT_KEY_ID, time: undefined, status: 200, resolved_model: undefined });
    assert.equal(json[1].op, 'assume-role');
    assert.ok(!JSON.stringify(json).includes(DEFAULT_SECRET));
    assert.ok(!/Signature=|SessionToken|secret/i.test(JSON.stringify(json)));
  });
});

// ---------------------------------------------------------------------------------------------
// CLI

test('CLI exits cleanly on SIGINT right after announcing its port', async () => {
  const child = spawn(process.execPath, [path.join(HERE, 'fake-aws.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  const code = await new Promise((resolve) => { child.on('exit', (c, sig) => resolve(c ?? sig)); child.kill('SIGINT'); });
  assert.equal(code, 0);
});

test('CLI prints its URL, serves, and exits on SIGTERM', async () => {
  const cfgFile = path.join(fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'fake-aws-')), 'cfg.json');
  fs.writeFileSync(cfgFile, JSON.stringify({ regions: ['us-east-1'], keys: { AKIDCLI: { secret: 's' } } }));
  const child = spawn(process.execPath, [path.join(HERE, 'fake-aws.mjs'), '--port', '0', '--config', cfgFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => { buf += d; const i = buf.indexOf('\n'); if (i >= 0) resolve(buf.slice(0, i)); });
    child.on('exit', (c) => reject(new Error(`exited ${c}`)));
  });
  const m = /^fake-aws listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
  assert.ok(m, line);
  assert.equal((await httpRequest(`${m[1]}/__fake/health`)).status, 200);
  const url = `${m[1]}/foundation-models`;
  const s = signRequest({ method: 'GET', url, accessKeyId: 'AKIDCLI', secretAccessKey: 's', region: 'us-east-1', service: 'bedrock' });
  assert.equal((await httpRequest(url, { headers: s.headers })).status, 200);
  const s2 = signRequest({ method: 'GET', url, accessKeyId: 'AKIDCLI', secretAccessKey: 's', region: 'us-west-2', service: 'bedrock' });
  assert.equal((await httpRequest(url, { headers: s2.headers })).status, 403, 'region not configured');
  const code = await new Promise((resolve) => { child.on('exit', (c, sig) => resolve(c ?? sig)); child.kill('SIGTERM'); });
  assert.equal(code, 0);
});
