// The `modelgate` client subcommands (issue [5/6], CLI part) against the real server and the fake
// AWS: every subcommand run as a child process, its table and --json output, the contract's
// field names, the documented exit codes, secrets only from stdin or a file (and never in any
// output or the server log), and the external forms verbatim. One test prints a short
// CLI session for the closing note.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, dumpOnFailure, tempDir } from './lib/gateway.mjs';
import { startStack, DEFAULT_KEY_ID, DEFAULT_SECRET, DEFAULT_ROLE_ARN } from './lib/stack.mjs';

const CANARY = 'CANARY-cli-' + Math.random().toString(36).slice(2) + '-XYZZY';
const CANARY2 = 'CANARY2-cli-' + Math.random().toString(36).slice(2) + '-XYZZY';
const SECRETS = [DEFAULT_SECRET, CANARY, CANARY2];

let s;   // the stack: fake AWS + gateway
let gw;
let dir; // scratch files (secret files, certificates)
const transcript = [];  // every run: for the leak check
const session = [];     // the runs shown in the printed CLI session

before(async () => {
  // A long health interval: models are checked right after they are added and on demand only.
  s = await startStack({ gateway: { args: ['--health-interval', '1h', '--health-cooldown', '1h'] } });
  gw = s.gw;
  dir = tempDir('mg-cli-');
});
after(async () => { await s.stop(); });

// Runs `modelgate ARGS...` against the gateway. Options: stdin (text), key (API key in
// MODELGATE_API_KEY; null for none), env (extra), url (MODELGATE_URL; null for none), show
// (record for the printed session, with `shown` as the command line to print), onChild (gets
// the child process once spawned).
function run(args, { stdin, key = gw.adminKey, env = {}, url = gw.url, show = false, shown, onChild } = {}) {
  const childEnv = { PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp', ...env };
  if (key !== null) childEnv.MODELGATE_API_KEY = key;
  if (url !== null) childEnv.MODELGATE_URL = url;
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    if (onChild) onChild(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      const r = { args, code, stdout, stderr, json: () => JSON.parse(stdout) };
      transcript.push(r);
      if (show) session.push({ ...r, shown: shown ?? `modelgate ${args.join(' ')}` });
      resolve(r);
    });
    child.stdin.on('error', () => {});  // the CLI may exit before reading stdin
    if (stdin !== undefined) child.stdin.write(stdin);
    child.stdin.end();
  });
}

// Asserts the exit code, printing what the command said when it differs.
function expectCode(r, code) {
  assert.equal(r.code, code,
    `modelgate ${r.args.join(' ')}: expected exit ${code}, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

const ok = async (args, opts) => { const r = await run(args, opts); expectCode(r, 0); return r; };

function secretFile(name, content) {
  const p = join(dir, name);
  writeFileSync(p, content + '\n', { mode: 0o600 });
  return p;
}

// A port nothing listens on.
async function closedPort() {
  const srv = createNetServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

// A TCP server that accepts and never answers; `connected` resolves on the first connection.
async function silentServer() {
  const sockets = [];
  let onConnect;
  const connected = new Promise((r) => { onConnect = r; });
  const srv = createNetServer((sock) => { sockets.push(sock); onConnect(); });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}`,
    connected,
    close: () => { for (const x of sockets) x.destroy(); return new Promise((r) => srv.close(r)); },
  };
}

test('--help documents every exit code; usage errors exit 2 before any request', async (t) => {
  dumpOnFailure(t, gw);
  const help = await ok(['--help'], { key: null });
  for (const [code, words] of [[0, 'success'], [1, 'the API answered an error'], [2, 'usage error'],
    [3, 'cannot reach the server'], [4, 'authentication or authorization failed'], [5, 'not found'],
    [6, 'conflict'], [7, 'a check ran and failed']]) {
    assert.match(help.stdout, new RegExp(`\\n  ${code}  ${words}`), `exit code ${code} in --help`);
  }
  for (const cmd of ['credentials', 'models', 'teams', 'users', 'keys', 'me', 'providers', 'health', 'audit', 'usage', 'serve', 'vault']) {
    assert.match(help.stdout, new RegExp(`\\n  ${cmd} `), `${cmd} in --help`);
  }
  const addHelp = await ok(['credentials', 'add', '--help'], { key: null });
  assert.match(addHelp.stdout, /--secret-access-key-stdin/);
  assert.match(addHelp.stdout, /--secret-access-key-file/);
  assert.match(addHelp.stdout, /Exit codes/);
  assert.doesNotMatch(addHelp.stdout, /--secret-access-key[ =]TEXT/);

  const usage = async (args, opts = {}) => {
    const r = await run(args, opts);
    expectCode(r, 2);
    assert.equal(r.stdout, '', `no stdout on a usage error: ${r.stdout}`);
    return r;
  };
  await usage([]);
  await usage(['bogus']);
  await usage(['credentials']);
  await usage(['credentials', 'add', '--region', 'us-east-1']);                       // --name missing
  // There is no flag that takes a secret as its value; the value is not echoed either.
  const arg = await usage(['credentials', 'add', '--name', 'x', '--region', 'us-east-1',
    '--access-key-id', DEFAULT_KEY_ID, '--secret-access-key', CANARY]);
  assert.match(arg.stderr, /unexpected argument\(s\): --secret-access-key \(\+1 value\)/);
  const inline = await usage(['models', 'add', `--secret-access-key=${CANARY}`, '--model', 'x']);
  assert.match(inline.stderr, /--secret-access-key/);
  const empty = await usage(['credentials', 'add', '--name', 'x', '--region', 'us-east-1',
    '--access-key-id', DEFAULT_KEY_ID, '--secret-access-key-stdin'], { stdin: '' });
  assert.match(empty.stderr, /--secret-access-key-stdin: nothing on stdin/);
  await usage(['credentials', 'add', '--name', 'x', '--region', 'us-east-1',
    '--access-key-id', DEFAULT_KEY_ID]);                                               // no secret source
  await usage(['credentials', 'add', '--name', 'x', '--region', 'us-east-1',
    '--access-key-id', DEFAULT_KEY_ID, '--secret-access-key-file', join(dir, 'missing')]);
  await usage(['credentials', 'add', '--name', 'x', '--region', 'us-east-1',
    '--access-key-id', DEFAULT_KEY_ID, '--secret-access-key-stdin', '--role-arn', DEFAULT_ROLE_ARN]);
  await usage(['credentials', 'add', '--name', 'x', '--region', 'us-east-1', '--access-key-id',
    DEFAULT_KEY_ID, '--secret-access-key-stdin', '--session-token-stdin'], { stdin: 'a' });
  await usage(['credentials', 'add', '--name', 'x', '--region', 'us-east-1', '--session-name', 'sn']);
  await usage(['models', 'add', '--credential', 'c', '--model', 'a', '--team', 't', '--all-teams']);
  await usage(['models', 'add', '--credential', 'c', '--model', 'a', 'b', '--id', 'one-id']);
  await usage(['usage', '--group-by', 'bogus']);
  await usage(['audit', '--limit', '0']);
  await usage(['teams', 'rename', 'only-one-arg']);
  const nokey = await usage(['me'], { key: null });
  assert.match(nokey.stderr, /no API key: set MODELGATE_API_KEY, or pass --api-key-file FILE/);
  await usage(['me', '--api-key-file', join(dir, 'missing')]);
  await usage(['me', '--url', 'ftp://127.0.0.1/']);
  await usage(['me', '--timeout', 'soon']);
  await usage(['me', '--ca-bundle', join(dir, 'missing.pem'), '--url', 'https://127.0.0.1:1']);
  // None of them created anything.
  const creds = await gw.call('GET', '/admin/v1/credentials');
  assert.deepEqual(creds.body.credentials, []);
});

test('transport failures exit 3: refused, timeout, TLS; --ca-bundle makes https work', async (t) => {
  dumpOnFailure(t, gw);
  const refused = await run(['me', '--url', `http://127.0.0.1:${await closedPort()}`]);
  expectCode(refused, 3);
  assert.match(refused.stderr, /^modelgate: cannot reach the server at http:\/\/127\.0\.0\.1:\d+: /);
  assert.equal(refused.stdout, '');

  const silent = await silentServer();
  try {
    const started = Date.now();
    const slow = await run(['me', '--url', silent.url, '--timeout', '300ms']);
    expectCode(slow, 3);
    assert.ok(Date.now() - started < 5000, 'the --timeout deadline applies');
  } finally { await silent.close(); }

  // An https server with a self-signed certificate for 127.0.0.1.
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const tls = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'user_tls', auth: req.headers.authorization === `Bearer ${gw.adminKey}` }));
  });
  await new Promise((r) => tls.listen(0, '127.0.0.1', r));
  const tlsUrl = `https://127.0.0.1:${tls.address().port}`;
  try {
    const untrusted = await run(['me', '--url', tlsUrl]);
    expectCode(untrusted, 3);
    assert.match(untrusted.stderr, /cannot reach the server at https:\/\/127\.0\.0\.1:\d+: .*(certificate|TLS|handshake)/i);
    const trusted = await run(['me', '--url', tlsUrl, '--ca-bundle', cert, '--json']);
    expectCode(trusted, 0);
    assert.deepEqual(trusted.json(), { id: 'user_tls', auth: true });
    const viaEnv = await run(['me', '--json'], { url: tlsUrl, env: { MODELGATE_CA_BUNDLE: cert } });
    expectCode(viaEnv, 0);
  } finally { await new Promise((r) => tls.close(r)); }
});

test('API key from the environment, --api-key-file or --api-key; bad keys exit 4; ps never shows it', async (t) => {
  dumpOnFailure(t, gw);
  const env = await ok(['me', '--json']);
  assert.equal(env.json().role, 'org_admin');
  const file = secretFile('admin.key', gw.adminKey);
  const fromFile = await ok(['me', '--json', '--api-key-file', file], { key: null });
  assert.equal(fromFile.json().role, 'org_admin');
  await ok(['me', '--api-key', gw.adminKey], { key: null });
  // The flag wins over the environment.
  const wrong = await run(['me', '--api-key', 'mg_wrong'], { key: gw.adminKey });
  expectCode(wrong, 4);
  assert.match(wrong.stderr, /^modelgate: .+ \(code: invalid_api_key, HTTP 401\)\n$/);
  assert.equal(wrong.stdout, '');
  expectCode(await run(['me'], { key: 'mg_wrong' }), 4);

  // While the command waits on a server that never answers, its command line hides the key.
  const silent = await silentServer();
  try {
    let pid;
    const pending = run(['me', '--url', silent.url, '--timeout', '10s', '--api-key', 'mg_VISIBLE_IN_PS'],
      { key: null, onChild: (c) => { pid = c.pid; } });
    await silent.connected;  // the CLI connects after it has parsed (and scrubbed) its arguments
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    assert.ok(cmdline.includes('--api-key'), cmdline);
    assert.ok(!cmdline.includes('mg_VISIBLE_IN_PS'), `key visible in /proc/${pid}/cmdline: ${cmdline}`);
    await silent.close();
    expectCode(await pending, 3);
  } finally { await silent.close(); }
});

test('me, teams and users: tables, --json, 404 -> 5, 409 -> 6, 400 -> 1', async (t) => {
  dumpOnFailure(t, gw);
  const me = await ok(['me'], { show: true });
  assert.match(me.stdout, /^id: +user_\w+$/m);
  assert.match(me.stdout, /^role: +org_admin$/m);
  assert.match(me.stdout, /^permissions\.manage_users: +yes$/m);
  const meJson = (await ok(['me', '--json'])).json();
  for (const f of ['id', 'email', 'name', 'role', 'teams', 'permissions']) assert.ok(f in meJson, f);

  const research = (await ok(['teams', 'add', 'research', '--json'])).json();
  assert.match(research.id, /^team_/);
  assert.equal(research.name, 'research');
  await ok(['teams', 'add', 'sales']);
  const dup = await run(['teams', 'add', 'research']);
  expectCode(dup, 6);
  const teams = await ok(['teams', 'list']);
  assert.match(teams.stdout, /^ID +NAME +CREATED\n/);
  assert.match(teams.stdout, new RegExp(`^${research.id} +research +\\d{4}-`, 'm'));
  const teamsJson = (await ok(['teams', 'list', '--json'])).json();
  assert.deepEqual(teamsJson.teams.map((x) => x.name).sort(), ['research', 'sales']);
  const renamed = await ok(['teams', 'rename', 'sales', 'sales-emea']);
  assert.match(renamed.stdout, /^name: +sales-emea$/m);
  expectCode(await run(['teams', 'rename', 'no-such-team', 'x']), 5);
  const badName = await run(['teams', 'add', ' leading-space']);
  expectCode(badName, 1);
  assert.match(badName.stderr, /\(param: name, code: invalid_parameter, HTTP 400\)/);

  const bob = (await ok(['users', 'add', '--email', 'bob@example.com', '--name', 'Bob', '--role', 'builder',
    '--team', 'research', 'sales-emea', '--json'])).json();
  for (const f of ['id', 'email', 'name', 'role', 'teams', 'created_at', 'updated_at']) assert.ok(f in bob, f);
  assert.deepEqual(bob.teams.map((x) => x.name).sort(), ['research', 'sales-emea']);
  const users = await ok(['users', 'list']);
  assert.match(users.stdout, /^ID +EMAIL +NAME +ROLE +TEAMS\n/);
  assert.match(users.stdout, new RegExp(`^${bob.id} +bob@example\\.com +Bob +builder +(research,sales-emea|sales-emea,research)$`, 'm'));
  const got = await ok(['users', 'get', bob.id]);
  assert.match(got.stdout, /^email: +bob@example\.com$/m);
  const updated = (await ok(['users', 'update', bob.id, '--role', 'full_access', '--no-teams', '--json'])).json();
  assert.equal(updated.role, 'full_access');
  assert.deepEqual(updated.teams, []);
  const badRole = await run(['users', 'add', '--email', 'x@example.com', '--name', 'X', '--role', 'wizard']);
  expectCode(badRole, 1);
  assert.match(badRole.stderr, /'role' must be one of .* \(param: role, code: invalid_parameter, HTTP 400\)/);
  expectCode(await run(['users', 'get', 'user_nope']), 5);
  expectCode(await run(['users', 'update', bob.id]), 2);  // nothing to change
  const del = await ok(['users', 'delete', bob.id]);
  assert.equal(del.stdout, `deleted user ${bob.id}\n`);
  expectCode(await run(['users', 'delete', bob.id]), 5);
  await ok(['teams', 'delete', 'sales-emea']);
  expectCode(await run(['teams', 'delete', 'sales-emea']), 5);
});

test('keys: create prints the key once, alone on stdout; it works; revoke ends it; --user; 403 -> 4', async (t) => {
  dumpOnFailure(t, gw);
  const created = await ok(['keys', 'create', '--name', 'ci']);
  const newKey = created.stdout.trim();
  assert.match(newKey, /^mg_\S+$/);
  assert.equal(created.stdout, newKey + '\n');
  assert.match(created.stderr, /Created API key key_\w+ \(ci, prefix mg_\S+\)\. It is shown this once/);
  const meWithNew = (await ok(['me', '--json'], { key: newKey })).json();
  assert.equal(meWithNew.role, 'org_admin');
  const list = await ok(['keys', 'list']);
  assert.match(list.stdout, /^ID +NAME +PREFIX +CREATED +LAST USED +REVOKED\n/);
  assert.ok(!list.stdout.includes(newKey), 'keys list never shows a key');
  const listed = (await ok(['keys', 'list', '--json'])).json().api_keys;
  const ci = listed.find((k) => k.name === 'ci');
  for (const f of ['id', 'name', 'prefix', 'created_at', 'last_used_at', 'revoked']) assert.ok(f in ci, f);
  assert.equal(ci.key, undefined);
  const json = (await ok(['keys', 'create', '--name', 'json', '--json'])).json();
  for (const f of ['id', 'name', 'key', 'prefix', 'created_at']) assert.ok(f in json, f);

  const revoked = await ok(['keys', 'revoke', ci.id]);
  assert.equal(revoked.stdout, `revoked key ${ci.id}\n`);
  expectCode(await run(['me'], { key: newKey }), 4);

  // Another user's keys, as an admin; and what a builder may not do.
  const builder = (await ok(['users', 'add', '--email', 'builder@example.com', '--name', 'Builder',
    '--role', 'builder', '--json'])).json();
  const bkey = (await ok(['keys', 'create', '--user', builder.id, '--name', 'b'])).stdout.trim();
  assert.equal((await ok(['me', '--json'], { key: bkey })).json().role, 'builder');
  const bkeys = (await ok(['keys', 'list', '--user', builder.id, '--json'])).json().api_keys;
  assert.deepEqual(bkeys.map((k) => k.name), ['b']);
  const forbidden = await run(['credentials', 'list'], { key: bkey });
  expectCode(forbidden, 4);
  assert.match(forbidden.stderr, /\(code: permission_denied, HTTP 403\)/);
  expectCode(await run(['keys', 'list', '--user', meWithNew.id], { key: bkey }), 4);
  const own = await ok(['keys', 'create', '--name', 'mine'], { key: bkey });  // anyone makes their own
  assert.match(own.stdout, /^mg_/);
  expectCode(await run(['keys', 'revoke', 'key_nope']), 5);
});

test('credentials: the issue\'s forms verbatim; secrets only from stdin or a file; test; update; delete', async (t) => {
  dumpOnFailure(t, gw);
  // Verbatim: access keys with the secret on stdin.
  const add = await run(['credentials', 'add', '--name', 'prod-bedrock-us-east', '--provider', 'bedrock',
    '--region', 'us-east-1', '--access-key-id', DEFAULT_KEY_ID, '--secret-access-key-stdin'],
  { stdin: DEFAULT_SECRET + '\n', show: true,
    shown: `modelgate credentials add --name prod-bedrock-us-east --provider bedrock --region us-east-1 --access-key-id ${DEFAULT_KEY_ID} --secret-access-key-stdin < secret.txt` });
  expectCode(add, 0);
  assert.match(add.stdout, /^auth\.access_key_id: +AKID\*+TEST$/m);
  assert.match(add.stdout, /^auth\.secret_set: +yes$/m);
  // Verbatim: a role, with session name and external id.
  const role = await ok(['credentials', 'add', '--name', 'role-cred', '--provider', 'bedrock', '--region', 'us-east-1',
    '--role-arn', DEFAULT_ROLE_ARN, '--session-name', 'cli-session', '--external-id', 'ext-1234'], { show: true });
  assert.match(role.stdout, /^auth\.role_arn: +arn:aws:iam::123456789012:role\/modelgate-test$/m);
  assert.match(role.stdout, /^auth\.external_id_set: +yes$/m);
  // The secret from a file; a canary that must never be shown again.
  await ok(['credentials', 'add', '--name', 'canary', '--region', 'us-west-2', '--access-key-id', 'AKIAIOSFODNN7EXAMPLE',
    '--secret-access-key-file', secretFile('canary.secret', CANARY)]);
  expectCode(await run(['credentials', 'add', '--name', 'canary', '--region', 'us-west-2', '--access-key-id',
    'AKIAIOSFODNN7EXAMPLE', '--secret-access-key-stdin'], { stdin: CANARY }), 6);
  const badRegion = await run(['credentials', 'add', '--name', 'nowhere', '--region', 'mars-1', '--role-arn', DEFAULT_ROLE_ARN]);
  expectCode(badRegion, 1);
  assert.match(badRegion.stderr, /\(param: region, code: region_not_supported, HTTP 400\)/);

  // Verbatim: list --json is the API's JSON unchanged, with the contract's field names.
  const listJson = await ok(['credentials', 'list', '--json']);
  const direct = await gw.call('GET', '/admin/v1/credentials');
  assert.equal(listJson.stdout, direct.text + '\n');
  const creds = listJson.json().credentials;
  assert.deepEqual(creds.map((c) => c.name).sort(), ['canary', 'prod-bedrock-us-east', 'role-cred']);
  const prod = creds.find((c) => c.name === 'prod-bedrock-us-east');
  for (const f of ['id', 'name', 'provider', 'region', 'auth', 'models', 'created_at', 'updated_at',
    'secret_rotated_at', 'rotation_due']) assert.ok(f in prod, f);
  assert.deepEqual(Object.keys(prod.auth).slice(0, 3), ['type', 'access_key_id', 'secret_set']);
  const table = await ok(['credentials', 'list'], { show: true });
  assert.match(table.stdout, /^ID +NAME +PROVIDER +REGION +AUTH +MODELS +ROTATION DUE\n/);
  assert.match(table.stdout, new RegExp(`^${prod.id} +prod-bedrock-us-east +bedrock +us-east-1 +access_keys AKID\\*+TEST +0 +no$`, 'm'));
  assert.match(table.stdout, /role-cred +bedrock +us-east-1 +role_arn arn:aws:iam::123456789012:role\/modelgate-test/);

  const byName = (await ok(['credentials', 'get', 'prod-bedrock-us-east', '--json'])).json();
  assert.equal(byName.id, prod.id);
  await ok(['credentials', 'get', prod.id]);
  expectCode(await run(['credentials', 'get', 'nope']), 5);

  // test: saved (by name and id), inline before saving, and one the provider refuses (exit 7).
  const tested = await ok(['credentials', 'test', 'prod-bedrock-us-east'], { show: true });
  assert.match(tested.stdout, /^ok: the credentials work; \d+ models visible$/m);
  const testedJson = (await ok(['credentials', 'test', prod.id, '--json'])).json();
  assert.equal(testedJson.ok, true);
  assert.ok(testedJson.models_visible > 5);
  await ok(['credentials', 'test', 'role-cred']);
  const inline = await ok(['credentials', 'test', '--region', 'us-east-1', '--access-key-id', DEFAULT_KEY_ID,
    '--secret-access-key-stdin', '--json'], { stdin: DEFAULT_SECRET });
  assert.equal(inline.json().ok, true);
  const refused = await run(['credentials', 'test', 'canary']);
  expectCode(refused, 7);
  assert.match(refused.stdout, /^ok: +no$/m);
  assert.match(refused.stdout, /^cause: +credentials_invalid$/m);
  const refusedJson = await run(['credentials', 'test', 'canary', '--json']);
  expectCode(refusedJson, 7);
  assert.equal(refusedJson.json().cause, 'credentials_invalid');
  expectCode(await run(['credentials', 'test']), 2);

  // update: rotate the canary's secret from stdin, rename, move.
  const before = (await ok(['credentials', 'get', 'canary', '--json'])).json();
  await new Promise((r) => setTimeout(r, 1100));  // secret_rotated_at has second precision
  const rotated = (await ok(['credentials', 'update', 'canary', '--access-key-id', 'AKIAIOSFODNN7EXAMPLE',
    '--secret-access-key-stdin', '--json'], { stdin: CANARY2 })).json();
  assert.notEqual(rotated.secret_rotated_at, before.secret_rotated_at);
  const renamed = await ok(['credentials', 'update', 'canary', '--name', 'canary-old', '--region', 'eu-west-1']);
  assert.match(renamed.stdout, /^name: +canary-old$/m);
  assert.match(renamed.stdout, /^region: +eu-west-1$/m);
  expectCode(await run(['credentials', 'update', 'canary-old']), 2);  // nothing to change
  const audit = (await ok(['audit', '--limit', '5', '--json'])).json().events.map((e) => e.action);
  assert.ok(audit.includes('credential.rotate'), audit.join(','));
  const deleted = await ok(['credentials', 'delete', 'canary-old']);
  assert.equal(deleted.stdout, 'deleted credential canary-old\n');
  expectCode(await run(['credentials', 'delete', 'canary-old']), 5);
});

test('models: catalog, add (the issue\'s form verbatim), list --json, get with encoded ids, update, delete', async (t) => {
  dumpOnFailure(t, gw);
  const catalog = await ok(['models', 'catalog', '--credential', 'prod-bedrock-us-east', '--region', 'us-east-1']);
  assert.match(catalog.stdout, /^PROVIDER MODEL +NAME +VENDOR +LIFECYCLE +STREAMING +INPUT +OUTPUT +ADDED\n/);
  assert.match(catalog.stdout, /^amazon\.nova-lite-v1:0 +Nova Lite +Amazon +ACTIVE +yes +TEXT,IMAGE\S* +TEXT +no$/m);
  const catJson = (await ok(['models', 'catalog', '--credential', 'prod-bedrock-us-east', '--json'])).json();
  assert.equal(catJson.region, 'us-east-1');  // the credential's region by default
  const haiku = catJson.models.find((m) => m.provider_model_id === 'anthropic.claude-3-haiku-20240307-v1:0');
  for (const f of ['provider_model_id', 'name', 'vendor', 'input_modalities', 'output_modalities', 'streaming',
    'lifecycle', 'added']) assert.ok(f in haiku, f);
  const inlineCat = await ok(['models', 'catalog', '--region', 'eu-west-1', '--access-key-id', DEFAULT_KEY_ID,
    '--secret-access-key-stdin', '--json'], { stdin: DEFAULT_SECRET });
  assert.equal(inlineCat.json().region, 'eu-west-1');
  expectCode(await run(['models', 'catalog']), 2);
  expectCode(await run(['models', 'catalog', '--credential', 'nope']), 5);

  // Verbatim: several provider models at once, for one team.
  const added = await run(['models', 'add', '--credential', 'prod-bedrock-us-east', '--region', 'us-east-1',
    '--model', 'amazon.nova-lite-v1:0', 'anthropic.claude-3-haiku-20240307-v1:0', '--team', 'research'], { show: true });
  expectCode(added, 0);
  assert.match(added.stdout, /^ID +PROVIDER MODEL +REGION +CREDENTIAL +TEAMS +HEALTH +IN POOL\n/);
  assert.match(added.stdout, /^amazon\.nova-lite-v1:0 +amazon\.nova-lite-v1:0 +us-east-1 +prod-bedrock-us-east +research /m);
  assert.match(added.stdout, /^anthropic\.claude-3-haiku-20240307-v1:0 +/m);
  // Verbatim: --all-teams; and an id with '/' and ':' through a role credential.
  await ok(['models', 'add', '--credential', 'prod-bedrock-us-east', '--region', 'us-east-1',
    '--model', 'amazon.nova-pro-v1:0', '--all-teams']);
  const custom = (await ok(['models', 'add', '--credential', 'role-cred', '--model', 'meta.llama3-8b-instruct-v1:0',
    '--id', 'team/llama3:8b', '--name', 'Llama 3 8B', '--all-teams', '--json'])).json();
  assert.equal(custom.models[0].id, 'team/llama3:8b');
  assert.equal(custom.models[0].name, 'Llama 3 8B');

  const dup = await run(['models', 'add', '--credential', 'prod-bedrock-us-east', '--model', 'amazon.nova-pro-v1:0']);
  expectCode(dup, 6);
  assert.match(dup.stderr, /code: id_taken, HTTP 409/);
  const notInCatalog = await run(['models', 'add', '--credential', 'prod-bedrock-us-east', '--region', 'eu-west-1',
    '--model', 'meta.llama3-8b-instruct-v1:0', '--id', 'llama-eu']);
  expectCode(notInCatalog, 1);
  assert.match(notInCatalog.stderr, /\(param: models\[0\]\.provider_model_id, code: model_not_in_catalog, HTTP 422\)/);
  expectCode(await run(['models', 'add', '--credential', 'no-such-cred', '--model', 'amazon.nova-pro-v1:0', '--id', 'x']), 1);

  // Verbatim: list --json.
  const list = await ok(['models', 'list', '--json']);
  assert.equal(list.stdout.trimEnd().length > 0, true);
  const models = list.json().models;
  assert.deepEqual(models.map((m) => m.id).sort(), ['amazon.nova-lite-v1:0', 'amazon.nova-pro-v1:0',
    'anthropic.claude-3-haiku-20240307-v1:0', 'team/llama3:8b']);
  const lite = models.find((m) => m.id === 'amazon.nova-lite-v1:0');
  for (const f of ['id', 'name', 'provider', 'provider_model_id', 'region', 'credential', 'team_access', 'health',
    'created_at', 'updated_at']) assert.ok(f in lite, f);
  assert.deepEqual(Object.keys(lite.credential), ['id', 'name']);
  assert.deepEqual(lite.team_access.teams.map((x) => x.name), ['research']);
  for (const f of ['status', 'in_pool', 'last_checked_at', 'next_check_at', 'cause', 'message', 'cooldown_until']) {
    assert.ok(f in lite.health, f);
  }
  const table = await ok(['models', 'list'], { show: true });
  assert.match(table.stdout, /^team\/llama3:8b +meta\.llama3-8b-instruct-v1:0 +us-east-1 +role-cred +all +\w+ +(yes|no)$/m);
  assert.match(table.stdout, /^amazon\.nova-pro-v1:0 +amazon\.nova-pro-v1:0 +us-east-1 +prod-bedrock-us-east +all /m);

  const one = await ok(['models', 'get', 'team/llama3:8b']);
  assert.match(one.stdout, /^id: +team\/llama3:8b$/m);
  assert.match(one.stdout, /^credential\.name: +role-cred$/m);
  assert.match(one.stdout, /^health\.status: +\w+$/m);
  expectCode(await run(['models', 'get', 'team/llama3']), 5);
  expectCode(await run(['models', 'get', '..']), 5);

  const shared = (await ok(['models', 'update', 'team/llama3:8b', '--team', 'research', '--name', 'Llama (research)', '--json'])).json();
  assert.deepEqual(shared.team_access.teams.map((x) => x.name), ['research']);
  assert.equal(shared.name, 'Llama (research)');
  const unshared = (await ok(['models', 'update', 'team/llama3:8b', '--no-teams', '--json'])).json();
  assert.deepEqual(unshared.team_access, { all_teams: false, teams: [] });
  const moved = (await ok(['models', 'update', 'team/llama3:8b', '--credential', 'prod-bedrock-us-east', '--json'])).json();
  assert.equal(moved.credential.name, 'prod-bedrock-us-east');
  expectCode(await run(['models', 'update', 'team/llama3:8b']), 2);  // nothing to change

  await ok(['credentials', 'delete', 'role-cred']);  // llama moved away: role-cred is unused now
  const stillUsed = await run(['credentials', 'delete', 'prod-bedrock-us-east']);
  expectCode(stillUsed, 6);
  assert.match(stillUsed.stderr, /code: credential_in_use, HTTP 409/);

  const del = await ok(['models', 'delete', 'team/llama3:8b']);
  assert.equal(del.stdout, 'deleted model team/llama3:8b\n');
  expectCode(await run(['models', 'get', 'team/llama3:8b']), 5);
  expectCode(await run(['models', 'delete', 'team/llama3:8b']), 5);
});

test('health: models health ID, models check ID (exit 7 when unhealthy) and the health table', async (t) => {
  dumpOnFailure(t, gw);
  const id = 'amazon.nova-pro-v1:0';
  const checked = await run(['models', 'check', id, '--json']);
  expectCode(checked, 0);
  const healthy = await ok(['models', 'health', id], { show: true });
  assert.match(healthy.stdout, /status: +healthy$/m);
  assert.match(healthy.stdout, /\nrecent checks:\nAT +STATUS +LATENCY MS +CAUSE +MESSAGE\n\d{4}-\S+ +healthy +\d+ /);
  const hJson = (await ok(['models', 'health', id, '--json'])).json();
  assert.ok(Array.isArray(hJson.checks) && hJson.checks.length >= 1);
  for (const f of ['at', 'status', 'latency_ms', 'cause', 'message']) assert.ok(f in hJson.checks[0], f);

  // The provider refuses the model: a check now says so (exit 7) and the table shows it.
  await s.script({ match: { model: id }, error: 'AccessDeniedException', status: 403,
    message: 'User is not authorized to perform: bedrock:InvokeModel' });
  try {
    const failed = await run(['models', 'check', id], { show: true });
    expectCode(failed, 7);
    assert.match(failed.stdout, /cause: +permission_denied$/m);
    expectCode(await run(['models', 'health', id]), 7);
    const all = await run(['health'], { show: true });
    expectCode(all, 7);
    assert.match(all.stdout, /^ID +STATUS +IN POOL +CAUSE +LAST CHECKED +NEXT CHECK +MESSAGE\n/);
    assert.match(all.stdout, new RegExp(`^${id.replace(/\./g, '\\.')} +unhealthy +no +permission_denied `, 'm'));
    expectCode(await run(['health', '--json']), 7);
  } finally { await s.clearScripts(); }
  expectCode(await run(['models', 'check', id]), 0);
  expectCode(await run(['models', 'health', 'no-such-model']), 5);
  expectCode(await run(['models', 'check', 'no-such-model']), 5);
});

test('providers, audit and usage', async (t) => {
  dumpOnFailure(t, gw);
  const providers = await ok(['providers', 'list']);
  assert.match(providers.stdout, /^ID +NAME +STATUS +AUTH TYPES +REGIONS\n/);
  assert.match(providers.stdout, /^bedrock +AWS Bedrock +available +access_keys,role_arn +\S*us-east-1/m);
  assert.match(providers.stdout, /^huggingface +HuggingFace +coming_soon +api_key +-$/m);
  const pJson = (await ok(['providers', 'list', '--json'])).json();
  assert.deepEqual(pJson.providers.map((p) => p.id), ['bedrock', 'huggingface', 'nvidia']);

  const audit = await ok(['audit', '--limit', '3'], { show: true });
  const lines = audit.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^AT +ACTOR +ACTION +TARGET +DETAILS$/);
  assert.equal(lines.length, 4);
  const events = (await ok(['audit', '--json'])).json().events;
  for (const f of ['at', 'actor', 'action', 'target', 'details']) assert.ok(f in events[0], f);
  const actions = new Set(events.map((e) => e.action));
  for (const a of ['credential.create', 'model.create', 'team.create', 'api_key.issue', 'api_key.revoke']) {
    assert.ok(actions.has(a), `${a} in ${[...actions].join(',')}`);
  }

  // One real request, so usage has a row.
  const chat = await gw.call('POST', '/v1/chat/completions', {
    body: { model: 'amazon.nova-pro-v1:0', messages: [{ role: 'user', content: 'hello there' }] } });
  assert.equal(chat.status, 200, chat.text);
  const usage = await ok(['usage', '--group-by', 'model'], { show: true });
  assert.match(usage.stdout, /^MODEL +NAME +REQUESTS +ERRORS +INPUT TOKENS +OUTPUT TOKENS\n/);
  assert.match(usage.stdout, /^amazon\.nova-pro-v1:0 +Nova Pro +1 +0 +2 +\d+$/m);
  const uJson = (await ok(['usage', '--group-by', 'user', '--since', '1h', '--json'])).json();
  assert.equal(uJson.group_by, 'user');
  for (const f of ['group_by', 'since', 'rows']) assert.ok(f in uJson, f);
  for (const f of ['key', 'requests', 'errors', 'input_tokens', 'output_tokens']) assert.ok(f in uJson.rows[0], f);
  const team = await ok(['usage', '--group-by', 'team', '--since', '2020-01-01T00:00:00Z', '--json']);
  assert.equal(team.json().group_by, 'team');
  const future = (await ok(['usage', '--group-by', 'model', '--since', '2100-01-01T00:00:00Z', '--json'])).json();
  assert.deepEqual(future.rows, []);
  const bad = await run(['usage', '--group-by', 'model', '--since', 'yesterday']);
  expectCode(bad, 1);
  assert.match(bad.stderr, /\(param: since, code: invalid_parameter, HTTP 400\)/);
});

test('no secret given on stdin or in a file appears in any output or the server log', async (t) => {
  dumpOnFailure(t, gw);
  assert.ok(transcript.length > 50, `ran ${transcript.length} commands`);
  const everything = transcript.map((r) => r.stdout + r.stderr).join('\n') + gw.log();
  for (const secret of SECRETS) {
    assert.ok(!everything.includes(secret), 'a secret leaked into the output or the log');
  }
  // The secrets really were used (the canary was stored, the fake's key listed the catalog).
  assert.ok(transcript.some((r) => r.args.includes('--secret-access-key-file')));
  assert.ok(existsSync(join(dir, 'canary.secret')));
});

test('a short CLI session (printed for the closing note)', async (t) => {
  assert.ok(session.length >= 8, `session has ${session.length} commands`);
  const text = session.map((r) => {
    const exit = r.code === 0 ? '' : `[exit ${r.code}]\n`;
    const out = (r.stdout + r.stderr).trimEnd();
    return `$ ${r.shown}\n${out}${out ? '\n' : ''}${exit}`;
  }).join('\n');
  console.log(`---- CLI session ----\n${text}---- end CLI session ----`);
});
