// The benchmark harness behind bench/run (see bench/README.md): starts the fast upstream, nginx,
// modelgate and the Portkey gateway, configures modelgate through its admin API, drives every
// target with the same load generator and the same request bodies, alternating the order of the
// targets in each round, and writes results.json and table.md under bench/results/<time>/ (and,
// with --readme, the table into bench/README.md). It stops what it started, by PID.
//
// Plain Node 20, no npm dependencies (Portkey itself is installed by bench/run into
// bench/node_modules).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');

// ---------------------------------------------------------------------------------------------
// Options

const PROFILES = {
  // The published table: several rounds, 10,000 models / 1,000 teams, 1,000 paced streams.
  full: { runs: 3, duration: 6, warmup: 1, models: 10000, teams: 1000, pacedClients: 1000,
    pacedDuration: 8, chunks: 50, intervalMs: 20, chatConns: 64, streamConns: 16, listSeconds: 5,
    rebuilds: 10, healthSeconds: 30, healthInterval: '30s', microbench: 'full' },
  // The same scenarios, one short round: a first look in about three minutes.
  quick: { runs: 1, duration: 3, warmup: 0.5, models: 10000, teams: 1000, pacedClients: 1000,
    pacedDuration: 4, chunks: 50, intervalMs: 20, chatConns: 64, streamConns: 16, listSeconds: 2,
    rebuilds: 5, healthSeconds: 10, healthInterval: '30s', microbench: 'none' },
  // CI: every code path for a few seconds per target, no thresholds.
  smoke: { runs: 1, duration: 0.5, warmup: 0.2, models: 50, teams: 10, pacedClients: 50,
    pacedDuration: 1.5, chunks: 50, intervalMs: 20, chatConns: 8, streamConns: 4, listSeconds: 0.5,
    rebuilds: 2, healthSeconds: 2, healthInterval: '1s', microbench: 'smoke' },
};

function parseArgs(argv) {
  const o = { profile: 'full', buildDir: process.env.MG_BUILD_DIR || path.join(ROOT, 'build', 'release'),
    out: null, readme: false, only: null, skip: new Set(), overrides: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i]; };
    if (a === '--smoke') o.profile = 'smoke';
    else if (a === '--quick') o.profile = 'quick';
    else if (a === '--full') o.profile = 'full';
    else if (a === '--build-dir') o.buildDir = path.resolve(next());
    else if (a === '--out') o.out = path.resolve(next());
    else if (a === '--readme') o.readme = true;
    else if (a === '--only') o.only = new Set(next().split(','));
    else if (a === '--skip') for (const t of next().split(',')) o.skip.add(t);
    else if (a === '--runs') o.overrides.runs = Number(next());
    else if (a === '--duration') o.overrides.duration = Number(next());
    else if (a === '--models') o.overrides.models = Number(next());
    else if (a === '--teams') o.overrides.teams = Number(next());
    else if (a === '--hold') o.hold = Number(next());
    else if (a === '--help' || a === '-h') o.help = true;
    else throw new Error(`unknown argument: ${a}`);
  }
  o.p = { ...PROFILES[o.profile], ...o.overrides };
  return o;
}

const USAGE = `usage: bench/run [--smoke | --quick | --full] [--build-dir DIR] [--out DIR] [--readme]
                 [--only SCENARIOS] [--skip TARGETS_OR_SCENARIOS] [--runs N] [--duration S]
                 [--models N] [--teams N] [--hold SECONDS]
--hold: after set-up, write hold.json (every target's URL and headers) into the results folder
        and wait that long before the scenarios, e.g. to attach perf to a target.
scenarios: upstream chat_c1 chat_c64 stream_c1 stream_c16 paced config rss health microbench
targets:   direct nginx modelgate portkey`;

// ---------------------------------------------------------------------------------------------
// Processes and /proc

const started = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('[bench]', ...a);

class Proc {
  constructor(name, cmd, args, { env = {}, logFile, cwd } = {}) {
    this.name = name;
    this.logFile = logFile;
    // Output goes straight to the log file (no pipe through this process): a target logging a
    // line per request must not make the harness wake up per request on the shared cores.
    const fd = fs.openSync(logFile, 'w');
    this.child = spawn(cmd, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    this.pid = this.child.pid;
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    started.push(this);
  }

  // The start of the log (enough for the "listening on" line and start-up errors).
  get output() {
    try {
      const fd = fs.openSync(this.logFile, 'r');
      const buf = Buffer.alloc(1 << 16);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      fs.closeSync(fd);
      return buf.subarray(0, n).toString();
    } catch { return ''; }
  }

  alive() { return this.child.exitCode === null && this.child.signalCode === null; }

  async waitFor(re, timeoutMs = 20000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.output.match(re);
      if (m) return m;
      if (!this.alive()) throw new Error(`${this.name} exited before it was ready:\n${this.output.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`${this.name} not ready within ${timeoutMs} ms:\n${this.output.slice(-2000)}`);
      await sleep(20);
    }
  }

  // Every process of this target: itself and its children (nginx workers).
  pids() { return [this.pid, ...childrenOf(this.pid)]; }

  async stop() {
    if (this.alive()) {
      // A profiler (MG_BENCH_WRAP) does not pass the signal on: stop what it runs first.
      if (this.wrapped) for (const c of childrenOf(this.pid)) { try { process.kill(c, 'SIGTERM'); } catch {} }
      this.child.kill('SIGTERM');
      const done = await Promise.race([this.exited.then(() => true), sleep(5000).then(() => false)]);
      if (!done && this.alive()) { this.child.kill('SIGKILL'); await this.exited; }
    }
    const i = started.indexOf(this);
    if (i >= 0) started.splice(i, 1);
  }
}

async function stopAll() {
  for (const p of [...started].reverse()) await p.stop();
}

const CLK_TCK = 100;  // USER_HZ on Linux

function childrenOf(pid) {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);  // utime, stime
    } catch { /* gone */ }
  }
  return ticks / CLK_TCK;
}

function statusKb(pid, field) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}

// Resets the peak RSS (VmHWM) of each process so the next reading is this scenario's peak.
function resetPeak(pids) {
  for (const pid of pids) { try { fs.writeFileSync(`/proc/${pid}/clear_refs`, '5'); } catch { /* not ours */ } }
}
const peakRssKb = (pids) => pids.reduce((s, p) => s + statusKb(p, 'VmHWM'), 0);

// ---------------------------------------------------------------------------------------------
// HTTP helpers

async function http(method, url, { headers = {}, body, timeoutMs = 60000 } = {}) {
  const h = { ...headers };
  let payload;
  if (body !== undefined) { payload = typeof body === 'string' ? body : JSON.stringify(body); h['content-type'] = 'application/json'; }
  const res = await fetch(url, { method, headers: h, body: payload, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, body: json, text };
}

async function waitHttp(url, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { await fetch(url, { signal: AbortSignal.timeout(1000) }); return; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await sleep(100);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    import('node:net').then(({ default: net }) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
      s.on('error', reject);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The load generator

let LOADGEN;
async function loadgen(url, { body, headers = [], connections, duration, warmup, timeout = 30,
  connectSpread = 0, requests = 0, label = '' }) {
  const args = ['--url', url, '--method', 'POST', '--connections', String(connections),
    '--duration', String(duration), '--warmup', String(warmup), '--timeout', String(timeout), '--label', label];
  if (body !== undefined) args.push('--body', body); else args[3] = 'GET';
  if (requests) args.push('--requests', String(requests));
  if (connectSpread) args.push('--connect-spread', String(connectSpread));
  for (const h of headers) args.push('--header', h);
  return new Promise((resolve, reject) => {
    const child = spawn(LOADGEN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', () => {
      try { resolve(JSON.parse(out)); } catch { reject(new Error(`loadgen failed: ${err}${out}`)); }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Starting the targets

const ADMIN_KEY = 'mg_' + randomBytes(32).toString('base64url');
const FAKE_KEY_ID = 'AKIDMODELGATETEST';
const FAKE_SECRET = 'modelgate/test/secret/key/0000000000000000';
// The gateway model ids are the provider model ids, so the upstream recognises the paced model
// by the same name whether it comes as a Bedrock path (modelgate) or in an OpenAI body (others).
const CHAT_MODEL = 'amazon.nova-lite-v1:0';
const PACED_MODEL = 'amazon.nova-pro-v1:0';

function bodies(p) {
  const chat = { model: CHAT_MODEL, messages: [{ role: 'user', content: 'Say hello to the benchmark in one short sentence.' }], max_tokens: 64 };
  return {
    chat: JSON.stringify(chat),
    stream: JSON.stringify({ ...chat, stream: true }),
    paced: JSON.stringify({ ...chat, model: PACED_MODEL, stream: true }),
  };
}

// `command`: [program, ...leading arguments]; the bench-mode flags follow.
async function startUpstream(ctx, command, name) {
  const [bin, ...lead] = command;
  const proc = new Proc(name, bin, [...lead, '--bench', '--listen', '127.0.0.1:0', '--chunks', String(ctx.p.chunks),
    '--stream-interval-ms', String(ctx.p.intervalMs), '--paced-model', PACED_MODEL],
  { logFile: path.join(ctx.dir, `${name}.log`) });
  const m = await proc.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
  proc.url = `http://127.0.0.1:${m[1]}`;
  return proc;
}

async function startNginx(ctx, upstreamPort, nodeUpstreamPort) {
  const nginx = ['/usr/sbin/nginx', '/usr/local/sbin/nginx'].find((p) => fs.existsSync(p));
  if (!nginx) return null;
  const prefix = path.join(ctx.dir, 'nginx');
  fs.mkdirSync(prefix, { recursive: true });
  const port = await freePort();
  const nodePort = await freePort();
  const conf = fs.readFileSync(path.join(HERE, 'config', 'nginx.conf.in'), 'utf8')
    .replaceAll('@USER@', process.getuid() === 0 ? 'user root;' : '')
    .replaceAll('@WORKERS@', String(os.availableParallelism()))
    .replaceAll('@PREFIX@', prefix).replaceAll('@PORT@', String(port))
    .replaceAll('@NODE_PORT@', String(nodePort))
    .replaceAll('@UPSTREAM_PORT@', String(upstreamPort))
    .replaceAll('@NODE_UPSTREAM_PORT@', String(nodeUpstreamPort));
  fs.writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  const proc = new Proc('nginx', nginx, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')],
    { logFile: path.join(ctx.dir, 'nginx.log') });
  proc.url = `http://127.0.0.1:${port}`;
  proc.nodeUrl = `http://127.0.0.1:${nodePort}`;
  await waitHttp(proc.url + '/__fake/health');
  proc.version = spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr || '';
  return proc;
}

async function startPortkey(ctx) {
  const entry = path.join(HERE, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
  if (!fs.existsSync(entry)) return null;
  const port = await freePort();
  const proc = new Proc('portkey', process.execPath,
    ['--import', path.join(HERE, 'portkey', 'preload.mjs'), entry, `--port=${port}`, '--headless'],
    { env: { NODE_ENV: 'production', TRUSTED_CUSTOM_HOSTS: '127.0.0.1' }, logFile: path.join(ctx.dir, 'portkey.log') });
  proc.url = `http://127.0.0.1:${port}`;
  await waitHttp(proc.url + '/');
  proc.version = JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules', '@portkey-ai', 'gateway', 'package.json'), 'utf8')).version;
  return proc;
}

async function startModelgate(ctx, upstreamUrl, dataDir, extraArgs = []) {
  // MG_BENCH_WRAP="heaptrack -o /tmp/mg" runs modelgate under a profiler (its figures then
  // describe the profiler too: for finding causes, not for the table).
  const wrap = (process.env.MG_BENCH_WRAP || '').split(' ').filter(Boolean);
  const proc = new Proc('modelgate', wrap[0] || ctx.bins.modelgate,
    [...wrap.slice(1), ...(wrap.length ? [ctx.bins.modelgate] : []), 'serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...extraArgs],
    { env: { MODELGATE_ADMIN_KEY: ADMIN_KEY, MODELGATE_MASTER_KEY: ctx.masterKey, AWS_ENDPOINT_URL: upstreamUrl,
      AWS_ACCESS_KEY_ID: FAKE_KEY_ID, AWS_SECRET_ACCESS_KEY: FAKE_SECRET },
    logFile: path.join(ctx.dir, `modelgate-${++ctx.mgStarts}.log`) });
  const m = await proc.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
  proc.url = `http://127.0.0.1:${m[1]}`;
  proc.wrapped = wrap.length > 0;
  return proc;
}

// The admin calls that give modelgate `teams` teams, a builder with a key, the two benchmark
// models and `models` models in all (batches of 200). Returns the builder's key.
async function configureModelgate(ctx, mg) {
  const p = ctx.p;
  const admin = (method, route, body) => http(method, mg.url + route, { headers: { authorization: `Bearer ${ADMIN_KEY}` }, body });
  const must = (r, what) => { if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`); return r.body; };
  must(await admin('POST', '/admin/v1/credentials', { name: 'bench', provider: 'bedrock', region: 'us-east-1',
    auth: { type: 'access_keys', access_key_id: FAKE_KEY_ID, secret_access_key: FAKE_SECRET } }), 'credential');
  const teamName = (i) => `team-${String(i).padStart(4, '0')}`;
  const t0 = Date.now();
  for (let i = 0; i < p.teams; i += 8) {
    await Promise.all(Array.from({ length: Math.min(8, p.teams - i) }, (_, j) =>
      admin('POST', '/admin/v1/teams', { name: teamName(i + j) }).then((r) => must(r, 'team'))));
  }
  const teamsMs = Date.now() - t0;
  const builderTeams = [0, 1, 2, 3, 4].filter((i) => i < p.teams).map(teamName);
  const user = must(await admin('POST', '/admin/v1/users', { email: 'bench@example.com', name: 'bench', role: 'builder', teams: builderTeams }), 'user');
  const key = must(await admin('POST', `/admin/v1/users/${user.id}/api-keys`, { name: 'bench' }), 'api key').key;
  must(await admin('POST', '/admin/v1/models', { provider: 'bedrock', credential: 'bench',
    models: [{ provider_model_id: CHAT_MODEL }, { provider_model_id: PACED_MODEL }],
    team_access: { teams: [teamName(Math.min(3, p.teams - 1))] } }), 'bench models');

  const rebuild = async (label) => {
    const ms = [];
    for (let i = 0; i < p.rebuilds; i++) {
      const s = process.hrtime.bigint();
      must(await admin('PATCH', `/admin/v1/models/${encodeURIComponent(CHAT_MODEL)}`, { name: `bench chat ${label} ${i}` }), 'patch');
      ms.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
    return ms;
  };
  const rebuildSmall = await rebuild('small');

  const fillers = Math.max(0, p.models - 2);
  const t1 = Date.now();
  let visible = 2;
  for (let b = 0, n = 0; n < fillers; b++) {
    const count = Math.min(200, fillers - n);
    const models = Array.from({ length: count }, (_, j) => ({ provider_model_id: CHAT_MODEL, id: `filler-${String(n + j).padStart(5, '0')}` }));
    // Every tenth batch is shared with all teams; the others with one team each.
    const allTeams = b % 10 === 0;
    const team = (b * 20) % p.teams;
    if (allTeams || builderTeams.includes(teamName(team))) visible += count;
    must(await admin('POST', '/admin/v1/models', { provider: 'bedrock', credential: 'bench', models,
      team_access: allTeams ? { all_teams: true } : { teams: [teamName(team)] } }), 'filler models');
    n += count;
  }
  const modelsMs = Date.now() - t1;
  const rebuildBig = await rebuild('big');
  return { key, teamsMs, modelsMs, visible, rebuildSmall, rebuildBig };
}

// ---------------------------------------------------------------------------------------------
// Statistics and the table

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

// What one measurement of one target yields.
function figures(r) {
  return {
    rps: r.rps, p50: r.latency_us.p50, p99: r.latency_us.p99, p999: r.latency_us.p999,
    ttfb50: r.ttfb_us.p50, ttfb99: r.ttfb_us.p99, cpu1k: r.cpu_per_1k, rssMb: r.rss_peak_kb / 1024,
    errors: r.errors + (r.requests - r.ok), events: r.events.mean,
  };
}

const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const fmtRatio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');

function scenarioTable(sc, rounds, names) {
  // rounds: [{target: figures}], one per round.
  const med = {};
  for (const t of names) {
    const rs = rounds.map((r) => r[t]).filter(Boolean);
    if (!rs.length) continue;
    med[t] = {};
    for (const k of Object.keys(rs[0])) med[t][k] = median(rs.map((r) => r[k]));
    // Added latency versus the direct upstream, in the same round.
    for (const [k, base] of [['add50', 'p50'], ['add99', 'p99'], ['addTtfb50', 'ttfb50'], ['addTtfb99', 'ttfb99']]) {
      med[t][k] = median(rounds.filter((r) => r[t] && r.direct).map((r) => r[t][base] - r.direct[base]));
    }
  }
  const streaming = sc.stream;
  const head = ['target', 'req/s', 'p50 µs', 'p99 µs', 'p99.9 µs', 'added p50 / p99 µs'];
  if (streaming) head.push('TTFB p50 / p99 µs', 'added TTFB p50 / p99 µs', 'SSE events');
  head.push('CPU s / 1k req', 'peak RSS MB', 'errors');
  const row = (name, m) => {
    const cells = [name, fmt(m.rps), fmt(m.p50), fmt(m.p99), fmt(m.p999),
      name.startsWith('direct') ? '–' : `${fmt(m.add50)} / ${fmt(m.add99)}`];
    if (streaming) cells.push(`${fmt(m.ttfb50)} / ${fmt(m.ttfb99)}`,
      name.startsWith('direct') ? '–' : `${fmt(m.addTtfb50)} / ${fmt(m.addTtfb99)}`, fmt(m.events, 1));
    cells.push(fmt(m.cpu1k, 3), fmt(m.rssMb, 1), fmt(m.errors));
    return cells;
  };
  const rows = names.filter((t) => med[t]).map((t) => row(LABELS[t] || t, med[t]));
  // Ratios of modelgate to each peer, per round (same run), then the median over rounds.
  const ratios = {};
  for (const peer of ['nginx', 'portkey']) {
    const rs = rounds.filter((r) => r.modelgate && r[peer]);
    if (!rs.length) continue;
    const q = (k) => median(rs.map((r) => r.modelgate[k] / r[peer][k]));
    const qa = (k, base) => median(rs.filter((r) => r.direct).map((r) => (r.modelgate[base] - r.direct[base]) / (r[peer][base] - r.direct[base])));
    ratios[peer] = { rps: q('rps'), p50: q('p50'), p99: q('p99'), p999: q('p999'), add50: qa('add50', 'p50'),
      add99: qa('add99', 'p99'), ttfb50: q('ttfb50'), ttfb99: q('ttfb99'), cpu1k: q('cpu1k'), rssMb: q('rssMb') };
    const r = ratios[peer];
    const cells = [`modelgate / ${LABELS[peer]}`, fmtRatio(r.rps), fmtRatio(r.p50), fmtRatio(r.p99), fmtRatio(r.p999),
      `${fmtRatio(r.add50)} / ${fmtRatio(r.add99)}`];
    if (streaming) cells.push(`${fmtRatio(r.ttfb50)} / ${fmtRatio(r.ttfb99)}`, '–', '–');
    cells.push(fmtRatio(r.cpu1k), fmtRatio(r.rssMb), '–');
    rows.push(cells);
  }
  const md = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  return { md, med, ratios };
}

const LABELS = { direct: 'direct (C++ upstream)', direct_node: 'direct (Node upstream)', nginx: 'nginx',
  nginx_node: 'nginx → Node upstream', modelgate: 'modelgate', portkey: 'Portkey' };

// ---------------------------------------------------------------------------------------------
// Micro-benchmarks

function microbench(ctx) {
  if (ctx.p.microbench === 'none' || !fs.existsSync(ctx.bins.microbench)) return null;
  const args = ['--benchmark_format=json'];
  if (ctx.p.microbench === 'smoke') args.push('--benchmark_min_time=0.001');
  else args.push('--benchmark_repetitions=3', '--benchmark_report_aggregates_only=true');
  const out = execFileSync(ctx.bins.microbench, args, { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  const j = JSON.parse(out);
  const rows = j.benchmarks.filter((b) => ctx.p.microbench === 'smoke' || b.aggregate_name === 'median')
    .map((b) => ({ name: b.run_name || b.name, ns: b.real_time * { ns: 1, us: 1e3, ms: 1e6 }[b.time_unit || 'ns'],
      items: b.items_per_second, bytes: b.bytes_per_second, label: b.label || '' }));
  const md = ['| benchmark | time / op | items/s | bytes/s | note |', '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.ns >= 1e4 ? `${fmt(r.ns / 1e3, 1)} µs` : `${fmt(r.ns, 0)} ns`} | ${r.items ? fmt(r.items / 1e3, 0) + ' k' : '–'} | ${r.bytes ? fmt(r.bytes / 1048576, 0) + ' MiB' : '–'} | ${r.label} |`)].join('\n');
  return { rows, md };
}

// ---------------------------------------------------------------------------------------------
// Main

function machine(ctx) {
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) || [])[1] || os.cpus()[0]?.model;
  let debian = '';
  try { debian = fs.readFileSync('/etc/debian_version', 'utf8').trim(); } catch { /* not Debian */ }
  let commit = '';
  try { commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { /* no git */ }
  return { nproc: os.availableParallelism(), cpu, kernel: os.release(), debian, memGb: Math.round(os.totalmem() / 2 ** 30),
    load: os.loadavg().map((x) => x.toFixed(2)).join(' '), node: process.version, commit };
}

async function main() {
  let opts;
  try { opts = parseArgs(process.argv.slice(2)); } catch (e) { console.error(`bench/run: ${e.message}\n${USAGE}`); process.exit(2); }
  if (opts.help) { console.log(USAGE); return; }
  const p = opts.p;
  const want = (s) => (!opts.only || opts.only.has(s)) && !opts.skip.has(s);
  const bins = {
    modelgate: path.join(opts.buildDir, 'modelgate'),
    loadgen: path.join(opts.buildDir, 'bench', 'modelgate-loadgen'),
    upstream: path.join(opts.buildDir, 'tests', 'fakes', 'bench_upstream', 'modelgate-bench-upstream'),
    microbench: path.join(opts.buildDir, 'bench', 'modelgate-bench'),
  };
  for (const k of ['modelgate', 'loadgen', 'upstream']) {
    if (!fs.existsSync(bins[k])) { console.error(`bench/run: ${bins[k]} is missing (build first, or pass --build-dir)`); process.exit(2); }
  }
  LOADGEN = bins.loadgen;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = opts.out || path.join(HERE, 'results', `${stamp}-${opts.profile}`);
  fs.mkdirSync(dir, { recursive: true });
  const ctx = { p, dir, bins, masterKey: process.env.MODELGATE_MASTER_KEY || randomBytes(32).toString('base64'), mgStarts: 0 };
  const m = machine(ctx);
  log(`profile ${opts.profile}; results in ${path.relative(ROOT, dir)}; ${m.nproc} cores, load ${m.load}`);

  const results = { profile: opts.profile, command: process.env.MG_BENCH_COMMAND || `node bench/harness.mjs ${process.argv.slice(2).join(' ')}`.trim(), machine: m,
    params: p, started: new Date().toISOString(), scenarios: {}, notes: [] };
  const B = bodies(p);
  const dataDir = path.join(dir, 'modelgate-data');
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  // The C++ upstream serves every target; the Node one (fake-aws.mjs --bench) only the upstream
  // check, which shows why the C++ one exists.
  const upstream = await startUpstream(ctx, [bins.upstream], 'upstream');
  const nodeUpstream = want('upstream')
    ? await startUpstream(ctx, [process.execPath, path.join(ROOT, 'tests', 'fakes', 'fake-aws.mjs')], 'upstream-node')
    : null;
  const targets = {};
  targets.direct = { url: upstream.url, headers: [], proc: upstream };
  if (nodeUpstream) targets.direct_node = { url: nodeUpstream.url, headers: [], proc: nodeUpstream };

  let nginx = null;
  if (!opts.skip.has('nginx')) {
    nginx = await startNginx(ctx, new URL(upstream.url).port, nodeUpstream ? new URL(nodeUpstream.url).port : new URL(upstream.url).port);
    if (nginx) {
      targets.nginx = { url: nginx.url, headers: [], proc: nginx };
      if (nodeUpstream) targets.nginx_node = { url: nginx.nodeUrl, headers: [], proc: nginx };
    } else results.notes.push('nginx is not installed: its baseline was skipped (apt-get install nginx).');
  }
  let portkey = null;
  if (!opts.skip.has('portkey')) {
    portkey = await startPortkey(ctx).catch((e) => { results.notes.push(`Portkey did not start: ${e.message.split('\n')[0]}`); return null; });
    if (portkey) {
      targets.portkey = { url: portkey.url, proc: portkey, headers: ['x-portkey-provider: openai',
        `x-portkey-custom-host: ${upstream.url}/v1`, 'Authorization: Bearer sk-bench-not-checked'] };
    } else if (!results.notes.some((n) => n.startsWith('Portkey'))) {
      results.notes.push('Portkey is not installed in bench/node_modules: its baseline was skipped.');
    }
  }

  // modelgate: configured with SigV4 checking on (the upstream proves every signature), then
  // checked end to end, then measured with checking off (the upstream's CPU is not the subject).
  let mg = await startModelgate(ctx, upstream.url, dataDir);
  log('configuring modelgate', `(${p.teams} teams, ${p.models} models)`);
  const cfg = await configureModelgate(ctx, mg);
  const mgHeaders = [`Authorization: Bearer ${cfg.key}`];
  targets.modelgate = { url: mg.url, headers: mgHeaders, proc: mg };
  for (const [what, body, check] of [['chat', B.chat, (t) => t.includes('"chat.completion"')],
    ['stream', B.stream, (t) => t.includes('data: [DONE]') && (t.match(/\n\n/g) || []).length >= p.chunks]]) {
    const r = await http('POST', mg.url + '/v1/chat/completions', { headers: { authorization: `Bearer ${cfg.key}` }, body });
    if (r.status !== 200 || !check(r.text)) throw new Error(`modelgate ${what} check failed: ${r.status} ${r.text.slice(0, 500)}`);
  }
  const stats = (await http('GET', upstream.url + '/__fake/stats')).body;
  if (stats.rejected > 0) throw new Error(`the upstream rejected ${stats.rejected} signatures from modelgate`);
  results.signatures = stats;
  for (const u of [upstream, nodeUpstream].filter(Boolean)) await http('POST', u.url + '/__fake/verify/off');

  if (opts.hold) {
    const hold = Object.fromEntries(Object.entries(targets).map(([t, v]) => [t, { url: v.url, headers: v.headers, pids: v.proc.pids() }]));
    fs.writeFileSync(path.join(dir, 'hold.json'), JSON.stringify({ bodies: B, targets: hold }, null, 1));
    log(`holding ${opts.hold} s; targets in ${path.join(dir, 'hold.json')}`);
    await sleep(opts.hold * 1000);
  }

  const scenarios = [
    { id: 'upstream', title: `Upstream check: small chat, ${p.chatConns} connections, direct and through nginx`, body: B.chat,
      conns: p.chatConns, names: ['direct', 'direct_node', 'nginx', 'nginx_node'] },
    { id: 'chat_c1', title: 'Small chat, non-streaming, 1 connection', body: B.chat, conns: 1 },
    { id: 'chat_c64', title: `Small chat, non-streaming, ${p.chatConns} connections`, body: B.chat, conns: p.chatConns },
    { id: 'stream_c1', title: `Streaming, ${p.chunks} chunks, 1 connection`, body: B.stream, conns: 1, stream: true },
    { id: 'stream_c16', title: `Streaming, ${p.chunks} chunks, ${p.streamConns} connections`, body: B.stream, conns: p.streamConns, stream: true },
    { id: 'paced', title: `Paced streams: ${p.chunks} chunks every ${p.intervalMs} ms, ${p.pacedClients} concurrent clients`, body: B.paced,
      conns: p.pacedClients, stream: true, duration: p.pacedDuration, warmup: Math.max(p.warmup, 1.2), connectSpread: Math.min(1, p.pacedDuration / 2), timeout: 30 },
  ].filter((s) => want(s.id));
  const defaultNames = ['direct', 'nginx', 'modelgate', 'portkey'];
  const rounds = Object.fromEntries(scenarios.map((s) => [s.id, []]));
  for (let run = 0; run < p.runs; run++) {
    for (const sc of scenarios) {
      const names = (sc.names || defaultNames).filter((t) => targets[t] && !opts.skip.has(t));
      // Alternate the order every round: no target always runs first (or last) on a noisy machine.
      const k = run % names.length;
      const order = [...names.slice(k), ...names.slice(0, k)];
      const round = {};
      for (const t of order) {
        const target = targets[t];
        const pids = target.proc.pids();
        resetPeak(pids);
        const cpu0 = cpuSeconds(pids);
        const r = await loadgen(target.url + '/v1/chat/completions', { body: sc.body, headers: target.headers,
          connections: sc.conns, duration: sc.duration ?? p.duration, warmup: sc.warmup ?? p.warmup,
          connectSpread: sc.connectSpread, timeout: sc.timeout, label: `${sc.id}/${t}` });
        r.cpu_s = cpuSeconds(pids) - cpu0;
        r.cpu_per_1k = r.sent ? (r.cpu_s / r.sent) * 1000 : NaN;
        r.rss_peak_kb = peakRssKb(pids);
        round[t] = figures(r);
        (results.raw ??= []).push({ scenario: sc.id, run, target: t, ...r });
        log(`${sc.id} run ${run + 1}/${p.runs} ${t}: ${fmt(r.rps)} req/s p50 ${fmt(r.latency_us.p50)} µs p99 ${fmt(r.latency_us.p99)} µs errors ${r.errors + r.requests - r.ok}`);
      }
      rounds[sc.id].push(round);
    }
  }
  for (const sc of scenarios) {
    const names = (sc.names || defaultNames).filter((t) => targets[t]);
    results.scenarios[sc.id] = { title: sc.title, ...scenarioTable(sc, rounds[sc.id], names) };
  }

  // The configuration scenario: /v1/models with the large configuration; snapshot rebuilds.
  if (want('config')) {
    const r = await loadgen(mg.url + '/v1/models', { headers: mgHeaders, connections: 1, duration: p.listSeconds, warmup: 0.2, label: 'models' });
    const listed = (await http('GET', mg.url + '/v1/models', { headers: { authorization: `Bearer ${cfg.key}` } })).body?.data?.length;
    results.scenarios.config = { title: `Configuration: ${p.models} models, ${p.teams} teams`, list: r, listed, ...cfg, key: undefined,
      rssMb: statusKb(mg.pid, 'VmRSS') / 1024 };
  }

  // Peak RSS with the large configuration and the paced streams, on a freshly started modelgate
  // (as in production: the configuration is loaded at start, not built by 10,000 admin calls).
  if (want('rss') && scenarios.some((s) => s.id === 'paced')) {
    await mg.stop();
    mg = await startModelgate(ctx, upstream.url, dataDir);
    await sleep(1000);
    const startKb = statusKb(mg.pid, 'VmRSS');
    const sc = scenarios.find((s) => s.id === 'paced');
    const r = await loadgen(mg.url + '/v1/chat/completions', { body: sc.body, headers: mgHeaders,
      connections: sc.conns, duration: sc.duration, warmup: sc.warmup, connectSpread: sc.connectSpread, timeout: sc.timeout, label: 'rss' });
    results.scenarios.rss = { title: `Peak RSS: freshly started modelgate, ${p.models} models, ${p.pacedClients} paced streams`,
      startMb: startKb / 1024, peakMb: statusKb(mg.pid, 'VmHWM') / 1024, requests: r.requests, errors: r.errors + r.requests - r.ok,
      ttfb50: r.ttfb_us.p50, ttfb99: r.ttfb_us.p99, p50: r.latency_us.p50, p99: r.latency_us.p99 };
  }

  // The health monitor: modelgate restarted with a short interval; its CPU while idle compared
  // with the same instance with health checks effectively off.
  if (want('health')) {
    const idle = async (interval) => {
      await mg.stop();
      mg = await startModelgate(ctx, upstream.url, dataDir, ['--health-interval', interval]);
      await sleep(1000);
      const s0 = (await http('GET', upstream.url + '/__fake/stats')).body;
      const c0 = cpuSeconds([mg.pid]);
      const t0 = process.hrtime.bigint();
      await sleep(p.healthSeconds * 1000);
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const s1 = (await http('GET', upstream.url + '/__fake/stats')).body;
      return { interval, seconds: secs, cpuS: cpuSeconds([mg.pid]) - c0, probes: s1.converse - s0.converse,
        rssMb: statusKb(mg.pid, 'VmRSS') / 1024 };
    };
    const off = await idle('24h');
    const on = await idle(p.healthInterval);
    results.scenarios.health = { title: `Health monitor: ${p.models} models, interval ${p.healthInterval}`, off, on };
  }

  if (want('microbench')) {
    try { results.microbench = microbench(ctx); } catch (e) { results.notes.push(`micro-benchmarks failed: ${e.message}`); }
  }
  results.versions = { nginx: nginx?.version?.trim().replace('nginx version: ', ''), portkey: portkey?.version, node: process.version };
  await stopAll();
  // The store and nginx's access log (hundreds of MB after a full run) are not results.
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(path.join(dir, 'nginx', 'access.log'), { force: true });
  results.finished = new Date().toISOString();
  const md = renderMarkdown(results);
  fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify(results, null, 1));
  fs.writeFileSync(path.join(dir, 'table.md'), md);
  if (opts.readme) updateReadme(md);
  console.log(md);
  log(`wrote ${path.relative(ROOT, path.join(dir, 'table.md'))}`);
}

function renderMarkdown(res) {
  const m = res.machine;
  const out = [];
  out.push(`Command: \`${res.command}\` (profile \`${res.profile}\`: ${res.params.runs} round(s) of ${res.params.duration} s per target and scenario, medians over rounds; targets alternate their order every round).`);
  out.push('');
  out.push(`Machine: ${m.nproc} cores (${m.cpu}), ${m.memGb} GiB, Linux ${m.kernel}, Debian ${m.debian}, Node ${m.node}; load average at start ${m.load}; commit ${m.commit || '?'}; ` +
    `nginx ${res.versions?.nginx || 'absent'}, Portkey gateway ${res.versions?.portkey || 'absent'}. Started ${res.started}.`);
  out.push('');
  out.push('The load generator, the upstream and the target share the same cores. modelgate runs the full path: API-key auth, team access check, OpenAI→Converse translation, SigV4 signing, event-stream decoding and SSE re-encoding. Latency is from writing the request to the last body byte; TTFB is to the first body byte; "added" is the target minus the direct upstream in the same round; CPU is the target\'s own (nginx: master and workers) per 1,000 requests sent; peak RSS is VmHWM over the measurement.');
  for (const [id, sc] of Object.entries(res.scenarios)) {
    out.push('', `### ${sc.title}`, '');
    if (sc.md) out.push(sc.md);
    else if (id === 'config') {
      out.push(`| figure | value |`, `|---|---|`,
        `| GET /v1/models (builder sees ${sc.listed} of ${res.params.models}), 1 connection | p50 ${fmt(sc.list.latency_us.p50)} µs, p99 ${fmt(sc.list.latency_us.p99)} µs, ${fmt(sc.list.rps)} req/s |`,
        `| admin change + snapshot rebuild, 2 models (PATCH /admin/v1/models/{id}) | median ${fmt(median(sc.rebuildSmall), 2)} ms, max ${fmt(Math.max(...sc.rebuildSmall), 2)} ms |`,
        `| admin change + snapshot rebuild, ${res.params.models} models, ${res.params.teams} teams | median ${fmt(median(sc.rebuildBig), 2)} ms, max ${fmt(Math.max(...sc.rebuildBig), 2)} ms |`,
        `| creating ${res.params.teams} teams / adding ${res.params.models - 2} models (batches of 200) | ${fmt(sc.teamsMs / 1000, 1)} s / ${fmt(sc.modelsMs / 1000, 1)} s |`,
        `| modelgate RSS at this point (after the other scenarios), with this configuration | ${fmt(sc.rssMb, 1)} MB |`);
    } else if (id === 'rss') {
      out.push(`| figure | value |`, `|---|---|`,
        `| RSS after start (configuration loaded) | ${fmt(sc.startMb, 1)} MB |`,
        `| peak RSS (VmHWM) during the paced streams | ${fmt(sc.peakMb, 1)} MB |`,
        `| streams completed / errors | ${sc.requests} / ${sc.errors} |`,
        `| latency p50 / p99; TTFB p50 / p99 | ${fmt(sc.p50 / 1000, 0)} / ${fmt(sc.p99 / 1000, 0)} ms; ${fmt(sc.ttfb50 / 1000, 1)} / ${fmt(sc.ttfb99 / 1000, 1)} ms |`);
    } else if (id === 'health') {
      const pct = (x) => (100 * x.cpuS) / x.seconds;
      const perProbeUs = sc.on.probes > 0 ? ((sc.on.cpuS - sc.off.cpuS * sc.on.seconds / sc.off.seconds) / sc.on.probes) * 1e6 : NaN;
      out.push(`| health interval | idle seconds | modelgate CPU | % of one core | probes sent (Converse calls seen by the upstream) |`, `|---|---|---|---|---|`,
        ...[sc.off, sc.on].map((x) => `| ${x.interval} | ${fmt(x.seconds, 1)} | ${fmt(x.cpuS, 2)} s | ${fmt(pct(x), 2)} % | ${x.probes} |`),
        '', `Cost of the monitor: ${fmt(pct(sc.on) - pct(sc.off), 2)} % of one core (difference of the two rows), ${fmt(perProbeUs, 0)} µs of CPU per probe.`);
    }
  }
  if (res.microbench) out.push('', '### Micro-benchmarks (Google Benchmark, `modelgate-bench`, median of 3)', '', res.microbench.md);
  if (res.notes.length) out.push('', ...res.notes.map((n) => `Note: ${n}`));
  return out.join('\n') + '\n';
}

function updateReadme(md) {
  const file = path.join(HERE, 'README.md');
  const begin = '<!-- bench-table:begin -->', end = '<!-- bench-table:end -->';
  const text = fs.readFileSync(file, 'utf8');
  const i = text.indexOf(begin), j = text.indexOf(end);
  if (i < 0 || j < 0) throw new Error('bench/README.md lacks the table markers');
  fs.writeFileSync(file, text.slice(0, i + begin.length) + '\n' + md + text.slice(j));
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { stopAll().finally(() => process.exit(130)); });
}
main().catch(async (e) => {
  console.error(`bench/run: ${e.stack || e}`);
  await stopAll();
  process.exit(1);
});
