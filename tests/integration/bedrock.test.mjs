// The Bedrock provider through the gateway's admin API (issue [2/6]): the catalog and the
// credential test with named and inline credentials, access keys and assumed roles; each
// Bedrock/STS failure reported with its health cause; model edits re-checked against the
// catalog of the new credential or region.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dumpOnFailure, assertErrorShape } from './lib/gateway.mjs';
import {
  startStack, createCredential, addModels, accessKeysAuth, roleAuth, DEFAULT_ROLE_ARN,
} from './lib/stack.mjs';

let s, gw;
before(async () => { s = await startStack(); gw = s.gw; });
after(async () => { await s.stop(); });

const inlineTest = (auth, region = 'us-east-1') =>
  gw.call('POST', '/admin/v1/credentials/test', { body: { provider: 'bedrock', region, auth } });

test('catalog with inline auth (POST) and a named credential (GET)', async (t) => {
  dumpOnFailure(t, gw);
  const post = await gw.call('POST', '/admin/v1/providers/bedrock/catalog', { body: { region: 'eu-west-1', auth: accessKeysAuth() } });
  assert.equal(post.status, 200, post.text);
  assert.equal(post.body.region, 'eu-west-1');
  const ids = post.body.models.map((m) => m.provider_model_id);
  assert.ok(ids.includes('amazon.nova-lite-v1:0'));
  assert.ok(!ids.includes('meta.llama3-8b-instruct-v1:0'));  // not offered in eu-west-1
  for (const m of post.body.models) {
    for (const f of ['provider_model_id', 'name', 'vendor', 'input_modalities', 'output_modalities', 'streaming', 'lifecycle', 'added']) {
      assert.ok(f in m, `${f} missing in ${JSON.stringify(m)}`);
    }
  }
  const viaRole = await gw.call('POST', '/admin/v1/providers/bedrock/catalog', { body: { region: 'us-west-2', auth: roleAuth() } });
  assert.equal(viaRole.status, 200, viaRole.text);
  const cred = await createCredential(gw, 'cat-cred', { region: 'us-west-2' });
  const get = await gw.call('GET', `/admin/v1/providers/bedrock/catalog?credential=cat-cred`);
  assert.equal(get.status, 200, get.text);
  assert.equal(get.body.region, 'us-west-2');  // the credential's region by default
  assert.ok((await s.requests()).some((r) => r.op === 'list' && r.region === 'eu-west-1'));
  assert.equal((await gw.call('DELETE', `/admin/v1/credentials/${cred.id}`)).status, 204);
});

test('credential test: ok with access keys and with a role, nothing saved', async (t) => {
  dumpOnFailure(t, gw);
  const before = (await gw.call('GET', '/admin/v1/credentials')).body.credentials.length;
  const ok = await inlineTest(accessKeysAuth());
  assert.deepEqual(Object.keys(ok.body).sort(), ['models_visible', 'ok']);
  assert.equal(ok.body.ok, true);
  await s.clearRequests();
  const role = await inlineTest({ ...roleAuth(), session_name: 'gateway-test' });
  assert.equal(role.body.ok, true, role.text);
  const log = await s.requests();
  assert.deepEqual(log.map((r) => r.op), ['assume-role', 'list']);
  assert.match(log[1].key, /^ASIA/);
  assert.equal((await gw.call('GET', '/admin/v1/credentials')).body.credentials.length, before);
});

test('credential test: each failure names its cause without a secret', async (t) => {
  dumpOnFailure(t, gw);
  const cases = [
    [{ error: 'UnrecognizedClientException' }, 'credentials_invalid'],
    [{ error: 'InvalidSignatureException' }, 'credentials_invalid'],
    [{ error: 'ExpiredTokenException' }, 'credentials_invalid'],
    [{ error: 'AccessDeniedException', message: 'User: arn:aws:iam::123456789012:user/gw is not authorized to perform: bedrock:ListFoundationModels' }, 'permission_denied'],
    [{ error: 'ThrottlingException' }, 'throttled'],
    [{ error: 'ServiceUnavailableException' }, 'provider_unavailable'],
    [{ error: 'InternalServerException' }, 'provider_unavailable'],
    [{ drop: true }, 'network'],
    [{ corrupt_frame: true }, 'provider_unavailable'],
  ];
  for (const [script, cause] of cases) {
    await s.clearScripts();
    await s.script({ match: { op: 'list' }, ...script });
    const r = await inlineTest(accessKeysAuth());
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.ok, false, r.text);
    assert.equal(r.body.cause, cause, `${JSON.stringify(script)}: ${r.text}`);
    assert.ok(r.body.message.length > 10);
    assert.ok(!/modelgate\/test\/secret|AKIDMODELGATETEST|123456789012/.test(r.text), r.text);
  }
  await s.clearScripts();
  // A wrong secret, checked by the fake's SigV4 verification.
  const wrong = await inlineTest({ ...accessKeysAuth(), secret_access_key: 'not-the-right-secret-0000' });
  assert.equal(wrong.body.cause, 'credentials_invalid', wrong.text);
  // A revoked key.
  await s.control('POST', '/__fake/keys', { id: 'AKIDREVOKED000000', secret: 'revoked-secret-0000000000', revoked: true });
  const revoked = await inlineTest({ type: 'access_keys', access_key_id: 'AKIDREVOKED000000', secret_access_key: 'revoked-secret-0000000000' });
  assert.equal(revoked.body.cause, 'credentials_invalid', revoked.text);
  // A role the gateway may not assume (STS AccessDenied), and a wrong external id.
  await s.control('POST', '/__fake/roles', { arn: 'arn:aws:iam::123456789012:role/locked', sources: ['AKIDSOMEONEELSE'] });
  const denied = await inlineTest({ type: 'role_arn', role_arn: 'arn:aws:iam::123456789012:role/locked' });
  assert.equal(denied.body.cause, 'permission_denied', denied.text);
  assert.match(denied.body.message, /assume/i);
  await s.control('POST', '/__fake/roles', { arn: 'arn:aws:iam::123456789012:role/ext', sources: ['AKIDMODELGATETEST'], external_id: 'right-id' });
  const ext = await inlineTest({ type: 'role_arn', role_arn: 'arn:aws:iam::123456789012:role/ext', external_id: 'wrong-id' });
  assert.equal(ext.body.cause, 'permission_denied', ext.text);
  const extOk = await inlineTest({ type: 'role_arn', role_arn: 'arn:aws:iam::123456789012:role/ext', external_id: 'right-id' });
  assert.equal(extOk.body.ok, true, extOk.text);
});

test('model edits: switch to inline and back, move region, re-checked against the catalog', async (t) => {
  dumpOnFailure(t, gw);
  const cred = await createCredential(gw, 'edit-cred');
  await addModels(gw, 'edit-cred', [{ provider_model_id: 'meta.llama3-8b-instruct-v1:0', id: 'llama' }]);
  const chat = () => gw.call('POST', '/v1/chat/completions', { body: { model: 'llama', messages: [{ role: 'user', content: 'hi' }] } });
  // To inline role credentials.
  let p = await gw.call('PATCH', '/admin/v1/models/llama', { body: { auth: { type: 'role_arn', role_arn: DEFAULT_ROLE_ARN } } });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.body.credential.inline, true);
  assert.deepEqual((await gw.call('GET', `/admin/v1/credentials/${cred.id}`)).body.models, []);
  await s.clearRequests();
  assert.equal((await chat()).status, 200);
  assert.deepEqual((await s.requests()).map((r) => r.op), ['assume-role', 'converse']);
  // Update the inline credentials (now access keys).
  p = await gw.call('PATCH', '/admin/v1/models/llama', { body: { auth: accessKeysAuth() } });
  assert.equal(p.status, 200, p.text);
  await s.clearRequests();
  assert.equal((await chat()).status, 200);
  assert.equal((await s.requests())[0].key, 'AKIDMODELGATETEST');
  // A region whose catalog lacks the model is refused and changes nothing.
  const bad = await gw.call('PATCH', '/admin/v1/models/llama', { body: { region: 'eu-west-1' } });
  assertErrorShape(assert, bad, 422, 'model_not_in_catalog');
  assert.equal((await gw.call('GET', '/admin/v1/models/llama')).body.region, 'us-east-1');
  // Back to the named credential, in another region that offers it.
  p = await gw.call('PATCH', '/admin/v1/models/llama', { body: { credential: 'edit-cred', region: 'us-west-2' } });
  assert.equal(p.status, 200, p.text);
  assert.deepEqual(p.body.credential, { id: cred.id, name: 'edit-cred' });
  assert.equal(p.body.region, 'us-west-2');
  await s.clearRequests();
  assert.equal((await chat()).status, 200);
  assert.equal((await s.requests())[0].region, 'us-west-2');
  assert.deepEqual((await gw.call('GET', `/admin/v1/credentials/${cred.id}`)).body.models, ['llama']);
  // Bad input to PATCH changes nothing.
  assertErrorShape(assert, await gw.call('PATCH', '/admin/v1/models/llama', { body: { credential: 'edit-cred', auth: accessKeysAuth() } }), 400);
  assertErrorShape(assert, await gw.call('PATCH', '/admin/v1/models/llama', { body: { team_access: { teams: ['no-such-team'] } } }), 400, 'team_not_found');
  assertErrorShape(assert, await gw.call('PATCH', '/admin/v1/models/nope', { body: { name: 'x' } }), 404, 'model_not_found');
  assertErrorShape(assert, await gw.call('PATCH', '/admin/v1/models/llama', { raw: '{' }), 400, 'invalid_json');
  assert.equal((await gw.call('GET', '/admin/v1/models/llama')).body.region, 'us-west-2');
});
