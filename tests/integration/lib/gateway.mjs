// Starts the real modelgate binary for a test: a fresh data dir, port 0, and the port learnt
// from the "listening on HOST:PORT" log line. Every test that uses it gets the server log
// dumped when it fails (see `dumpOnFailure`).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export const BIN = process.env.MODELGATE_BIN;
if (!BIN) throw new Error('MODELGATE_BIN must point at the built modelgate binary');

export function newAdminKey() {
  return 'mg_' + randomBytes(32).toString('base64url');
}

export function tempDir(prefix = 'mg-it-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

// Options: dataDir (default: new temp dir), adminKey, env (extra), args (extra flags).
export async function startGateway(opts = {}) {
  const dataDir = opts.dataDir ?? tempDir();
  const adminKey = opts.adminKey ?? newAdminKey();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? '/tmp',
    MODELGATE_ADMIN_KEY: adminKey,
    ...(opts.env ?? {}),
  };
  const args = ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...(opts.args ?? [])];
  const proc = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const onData = (d) => { log += d.toString(); };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));

  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gateway did not start within 15 s:\n' + log)), 15000);
    const check = () => {
      const m = log.match(/listening on (?:\[[^\]]+\]|[^\s:]+):(\d+)/);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    };
    proc.stdout.on('data', check);
    proc.stderr.on('data', check);
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`gateway exited (${code}) before listening:\n${log}`)); });
    check();
  });
  const url = `http://127.0.0.1:${port}`;
  const gw = {
    url, port, adminKey, dataDir, proc, exited,
    log: () => log,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
    async kill9() { return gw.stop('SIGKILL'); },
    cleanup() { rmSync(dataDir, { recursive: true, force: true }); },
    // HTTP helper: returns {status, headers, body (parsed JSON when possible), text}.
    async call(method, path, { key = adminKey, body, raw, headers = {} } = {}) {
      const h = { ...headers };
      if (key) h.authorization = `Bearer ${key}`;
      let payload;
      if (raw !== undefined) payload = raw;
      else if (body !== undefined) { payload = JSON.stringify(body); h['content-type'] = 'application/json'; }
      const res = await fetch(url + path, { method, headers: h, body: payload });
      const text = await res.text();
      let json;
      try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
      return { status: res.status, headers: res.headers, body: json, text };
    },
  };
  return gw;
}

// Registers an after-hook on the test context that prints the server log if the test failed.
export function dumpOnFailure(t, gw) {
  t.after(() => {
    if (t.passed === false || process.exitCode) {
      console.error(`---- modelgate log (${gw.url}) ----\n${gw.log()}\n---- end log ----`);
    }
  });
}

// Asserts the contract error shape (client-api §7.1 / admin-api "Errors").
export function assertErrorShape(assert, res, status, code) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.ok(res.body && res.body.error, `error body missing: ${res.text}`);
  assert.equal(typeof res.body.error.message, 'string');
  assert.equal(typeof res.body.error.type, 'string');
  if (code) assert.equal(res.body.error.code, code, `expected code ${code}: ${res.text}`);
  assert.ok('param' in res.body.error);
  assert.equal(typeof res.body.message, 'string');
  assert.equal(typeof res.body.tpe, 'string');
  assert.ok(Array.isArray(res.body.errors));
  assert.ok(res.headers.get('x-request-id'), 'x-request-id missing');
}
