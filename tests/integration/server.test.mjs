// The HTTP server against hostile and broken clients (issue [1/6]): malformed requests, header
// and body limits, slow clients, keep-alive, percent-encoding, request ids, and that none of it
// disturbs a well-behaved client on another connection. Also: the TOML config file is honoured
// and an unknown key is an error naming it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startGateway, tempDir, assertErrorShape, dumpOnFailure, BIN } from './lib/gateway.mjs';

let gw;
before(async () => {
  const dir = tempDir();
  const cfg = join(dir, 'modelgate.toml');
  writeFileSync(cfg, [
    '[server]',
    'header_timeout = "1s"',
    'body_timeout = "1s"',
    'idle_timeout = "2s"',
    'max_header_bytes = 4096',
    'max_body_bytes = 65536',
  ].join('\n'));
  gw = await startGateway({ args: ['--config', cfg] });
});
after(async () => { await gw.stop(); gw.cleanup(); });

// Sends raw bytes on a new connection; resolves with everything received until the server
// closes the connection (or `waitMs` passes).
function raw(bytes, { waitMs = 5000, chunks } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(gw.port, '127.0.0.1');
    let data = '';
    const started = Date.now();
    const done = (why) => { sock.destroy(); resolve({ data, why, ms: Date.now() - started }); };
    const timer = setTimeout(() => done('timeout'), waitMs);
    sock.on('data', (d) => { data += d.toString('latin1'); });
    sock.on('close', () => { clearTimeout(timer); done('closed'); });
    sock.on('error', () => {});
    sock.on('connect', async () => {
      if (chunks) {
        for (const c of chunks) { sock.write(c); await new Promise((r) => setTimeout(r, 50)); }
      } else {
        sock.write(bytes);
      }
    });
  });
}

const statusOf = (data) => Number((data.match(/^HTTP\/1\.1 (\d{3})/) ?? [])[1]);
const bodyOf = (data) => JSON.parse(data.slice(data.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n/, ''));

test('malformed requests get 400 with the error shape and a request id', async (t) => {
  dumpOnFailure(t, gw);
  for (const bad of [
    'GARBAGE\r\n\r\n',
    'GET / HTTP/9.9\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHo st: x\r\n\r\n',
    'POST /admin/v1/teams HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
  ]) {
    const r = await raw(bad);
    assert.equal(statusOf(r.data), 400, `${JSON.stringify(bad)} -> ${r.data}`);
    assert.match(r.data, /x-request-id: req_/i);
    const body = bodyOf(r.data);
    assert.equal(typeof body.error.message, 'string');
    assert.equal(r.why, 'closed', 'the connection is closed after a malformed request');
  }
});

test('header and body limits answer 431/413 with the error shape', async (t) => {
  dumpOnFailure(t, gw);
  const bigHeader = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8192)}\r\n\r\n`;
  const r = await raw(bigHeader);
  assert.ok([413, 431].includes(statusOf(r.data)), r.data.slice(0, 200));
  const big = await gw.call('POST', '/admin/v1/teams', { raw: JSON.stringify({ name: 'x'.repeat(70000) }) });
  assertErrorShape(assert, big, 413, 'request_too_large');
  // Declared too large: refused before the body is sent.
  const declared = await raw(`POST /admin/v1/teams HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n`);
  assert.equal(statusOf(declared.data), 413, declared.data.slice(0, 200));
});

test('slow clients are cut off by the header and body timeouts', async (t) => {
  dumpOnFailure(t, gw);
  // Never finishes its headers: closed after ~1 s (header_timeout), not held forever.
  const slowHeaders = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\n', { waitMs: 8000 });
  assert.equal(slowHeaders.why, 'closed');
  assert.ok(slowHeaders.ms < 7000, `closed after ${slowHeaders.ms} ms`);
  // Promises a body and sends half.
  const slowBody = await raw('POST /admin/v1/teams HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"na',
    { waitMs: 8000 });
  assert.equal(slowBody.why, 'closed');
  // A header trickled byte by byte within the timeout still works.
  const req = 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  const trickle = await raw(null, { chunks: [req.slice(0, 10), req.slice(10, 20), req.slice(20)] });
  assert.equal(statusOf(trickle.data), 200, trickle.data);
});

test('keep-alive serves several requests on one connection; idle connections are closed', async (t) => {
  dumpOnFailure(t, gw);
  const one = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
  const r = await raw(one + one + one, { waitMs: 6000 });
  assert.equal((r.data.match(/HTTP\/1\.1 200/g) ?? []).length, 3, r.data);
  assert.equal(r.why, 'closed', 'idle_timeout closes the kept-alive connection');
  const ids = [...r.data.matchAll(/x-request-id: (\S+)/gi)].map((m) => m[1]);
  assert.equal(new Set(ids).size, 3, 'each request has its own id');
});

test('a hostile connection does not disturb a well-behaved one', async (t) => {
  dumpOnFailure(t, gw);
  // Twenty stalled connections and a garbage one, while a normal client keeps working.
  const stalled = Array.from({ length: 20 }, () => raw('GET /healthz HTTP/1.1\r\n', { waitMs: 4000 }));
  const garbage = raw('\x00\x01\x02\xff'.repeat(1000));
  const t0 = Date.now();
  for (let i = 0; i < 20; i++) {
    const me = await gw.call('GET', '/admin/v1/me');
    assert.equal(me.status, 200);
  }
  assert.ok(Date.now() - t0 < 3000, 'normal requests were not held up by the stalled ones');
  await Promise.all([...stalled, garbage]);
  assert.equal((await gw.call('GET', '/healthz', { key: null })).status, 200);
});

test('bad percent-encoding in a path or query is a 400, not a crash', async (t) => {
  dumpOnFailure(t, gw);
  const a = await gw.call('GET', '/admin/v1/users/%E0%A4%A');
  assert.ok([400, 404].includes(a.status), a.text);
  assertErrorShape(assert, a, a.status);
  const b = await gw.call('GET', '/admin/v1/audit?limit=%zz');
  assertErrorShape(assert, b, 400);
  assert.equal((await gw.call('GET', '/healthz', { key: null })).status, 200);
});

test('the authorization header never reaches the log', async (t) => {
  dumpOnFailure(t, gw);
  await gw.call('GET', '/admin/v1/me', { key: 'mg_LOGCANARYLOGCANARY' });
  await gw.call('GET', '/admin/v1/me');
  assert.ok(!gw.log().includes('LOGCANARY'));
  assert.ok(!gw.log().includes(gw.adminKey));
});

test('unknown config keys are an error naming the key; flags win over the file', async () => {
  const dir = tempDir();
  const cfg = join(dir, 'bad.toml');
  writeFileSync(cfg, '[server]\nheader_timeout = "1s"\nheadr_timeout = "2s"\n');
  const r = spawnSync(BIN, ['serve', '--config', cfg, '--data-dir', dir, '--listen', '127.0.0.1:0'],
    { encoding: 'utf8', timeout: 10000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /server\.headr_timeout/);
  const d = spawnSync(BIN, ['serve', '--data-dir', dir, '--health-interval', 'soon'],
    { encoding: 'utf8', timeout: 10000 });
  assert.notEqual(d.status, 0);
  assert.match(d.stdout + d.stderr, /health.interval/i);
});
