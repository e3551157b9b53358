// `modelgate vault rotate-key` against a real data directory (issue [1/6]): the master key is
// replaced while the server runs (no downtime), every secret still opens after a restart with
// the new key, and the key file keeps mode 0600.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BIN, startGateway, tempDir, newAdminKey, dumpOnFailure } from './lib/gateway.mjs';
import { startFakeAws, DEFAULT_KEY_ID, DEFAULT_SECRET } from '../fakes/fake-aws.mjs';

const rotate = (dataDir, env = {}) => spawnSync(BIN, ['vault', 'rotate-key', '--data-dir', dataDir], {
  env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });

async function setUp(gw) {
  const c = await gw.call('POST', '/admin/v1/credentials', { body: { name: 'main', provider: 'bedrock', region: 'us-east-1',
    auth: { type: 'access_keys', access_key_id: DEFAULT_KEY_ID, secret_access_key: DEFAULT_SECRET } } });
  assert.equal(c.status, 201, c.text);
  const m = await gw.call('POST', '/admin/v1/models', { body: { provider: 'bedrock', credential: 'main',
    models: [{ provider_model_id: 'amazon.nova-lite-v1:0', id: 'nova' }], team_access: { all_teams: true } } });
  assert.equal(m.status, 201, m.text);
}
const chat = (gw) => gw.call('POST', '/v1/chat/completions', { body: { model: 'nova', messages: [{ role: 'user', content: 'still signing' }] } });

test('key file: rotate while serving, then restart on the new key', async (t) => {
  const fake = await startFakeAws();
  const dataDir = tempDir();
  const adminKey = newAdminKey();
  const env = { AWS_ENDPOINT_URL: fake.url };
  let gw = await startGateway({ dataDir, adminKey, env });
  dumpOnFailure(t, gw);
  try {
    await setUp(gw);
    const before = readFileSync(join(dataDir, 'master.key'));
    const r = rotate(dataDir);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.trim().length > 0, 'a summary is printed');
    assert.ok(!r.stdout.includes(DEFAULT_SECRET) && !r.stderr.includes(DEFAULT_SECRET));
    const after = readFileSync(join(dataDir, 'master.key'));
    assert.notDeepEqual(after, before);
    assert.equal(statSync(join(dataDir, 'master.key')).mode & 0o777, 0o600);
    // No downtime: the running server keeps signing with the secrets it opened, and seals new ones.
    assert.equal((await chat(gw)).status, 200);
    const upd = await gw.call('PATCH', '/admin/v1/credentials/main', { body: { auth: {
      type: 'access_keys', access_key_id: DEFAULT_KEY_ID, secret_access_key: DEFAULT_SECRET } } });
    assert.equal(upd.status, 200, upd.text);
    // A restart opens every secret with the new master key.
    await gw.stop();
    gw = await startGateway({ dataDir, adminKey, env });
    assert.equal((await chat(gw)).status, 200);
    assert.equal((await gw.call('GET', '/admin/v1/credentials/main')).body.auth.secret_set, true);
  } finally {
    await gw.stop();
    gw.cleanup();
    await fake.close();
  }
});

test('environment key: MODELGATE_NEW_MASTER_KEY replaces MODELGATE_MASTER_KEY', async (t) => {
  const fake = await startFakeAws();
  const dataDir = tempDir();
  const adminKey = newAdminKey();
  const k1 = randomBytes(32).toString('base64');
  const k2 = randomBytes(32).toString('base64');
  let gw = await startGateway({ dataDir, adminKey, env: { AWS_ENDPOINT_URL: fake.url, MODELGATE_MASTER_KEY: k1 } });
  dumpOnFailure(t, gw);
  try {
    await setUp(gw);
    const r = rotate(dataDir, { MODELGATE_MASTER_KEY: k1, MODELGATE_NEW_MASTER_KEY: k2 });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stdout.includes(k1) && !r.stdout.includes(k2) && !r.stderr.includes(k2), 'keys are never printed');
    assert.equal((await chat(gw)).status, 200);
    await gw.stop();
    gw = await startGateway({ dataDir, adminKey, env: { AWS_ENDPOINT_URL: fake.url, MODELGATE_MASTER_KEY: k2 } });
    assert.equal((await chat(gw)).status, 200);
    // A rotation without the new key is refused and changes nothing.
    const refused = rotate(dataDir, { MODELGATE_MASTER_KEY: k2 });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /MODELGATE_NEW_MASTER_KEY/);
    assert.equal((await chat(gw)).status, 200);
  } finally {
    await gw.stop();
    gw.cleanup();
    await fake.close();
  }
});
