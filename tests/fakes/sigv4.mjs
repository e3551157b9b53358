// AWS Signature Version 4 (AWS4-HMAC-SHA256), written from shared/spec/bedrock.md §3.
// Used by the fake AWS to verify requests and by its tests (and any node test) to sign them.
// Plain Node.js, no dependencies.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// Headers that are never signed (spec §3 step 5).
const UNSIGNABLE = new Set(['authorization', 'user-agent', 'expect', 'transfer-encoding',
  'connection', 'x-amzn-trace-id']);

export function sha256Hex(data) {
  return createHash('sha256').update(data ?? '').digest('hex');
}

function hmac(key, data) {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

const UNRESERVED = /[A-Za-z0-9\-_.~]/;

/** Percent-encode every UTF-8 byte except A-Z a-z 0-9 - _ . ~ (and '/' when keepSlash). */
export function uriEncode(str, keepSlash = false) {
  const bytes = Buffer.isBuffer(str) ? str : Buffer.from(String(str), 'utf8');
  let out = '';
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    if ((b < 0x80 && UNRESERVED.test(ch)) || (keepSlash && ch === '/')) out += ch;
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Percent-decode leniently into UTF-8 bytes (malformed escapes are kept literally; '+' stays '+'). */
export function percentDecode(str) {
  const bytes = [];
  const src = Buffer.from(String(str), 'utf8');
  for (let i = 0; i < src.length; i++) {
    const b = src[i];
    if (b === 0x25 && i + 2 < src.length && /^[0-9A-Fa-f]{2}$/.test(src.toString('latin1', i + 1, i + 3))) {
      bytes.push(parseInt(src.toString('latin1', i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(b);
  }
  return Buffer.from(bytes);
}

/** §3 step 3: normalise the wire path and encode it (again). */
export function canonicalUri(wirePath) {
  const path = wirePath && wirePath.length ? wirePath : '/';
  const segs = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') { segs.pop(); continue; }
    segs.push(seg);
  }
  let norm = '/' + segs.join('/');
  if (path.endsWith('/') && segs.length > 0) norm += '/';
  return uriEncode(norm, true);
}

/** §3 step 4: raw query string (without '?') -> canonical query. */
export function canonicalQuery(rawQuery) {
  if (!rawQuery) return '';
  const pairs = [];
  for (const item of rawQuery.split('&')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? '' : item.slice(eq + 1);
    pairs.push([uriEncode(percentDecode(name)), uriEncode(percentDecode(value))]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

/** Build a raw query string from [name, value] pairs (encoded once, like the SDKs do). */
export function buildQuery(pairs) {
  return (pairs || []).map(([n, v]) => `${uriEncode(n)}=${uriEncode(v ?? '')}`).join('&');
}

export function canonicalHeaderValue(v) {
  return String(v).replace(/\r\n|\r|\n/g, ' ').replace(/[ \t]+/g, ' ').trim();
}

/**
 * headers: array of [name, value] pairs (order kept, repeats allowed) or a plain object.
 * Returns Map lower-cased name -> array of values in order.
 */
export function headerMap(headers) {
  const map = new Map();
  const entries = Array.isArray(headers) ? headers : Object.entries(headers || {});
  for (const [n, v] of entries) {
    const k = String(n).toLowerCase();
    const vals = Array.isArray(v) ? v : [v];
    if (!map.has(k)) map.set(k, []);
    map.get(k).push(...vals.map(String));
  }
  return map;
}

/** §3 steps 5-6. */
export function canonicalRequest({ method, path, query, headers, signedHeaders, payloadHash }) {
  const map = headerMap(headers);
  const names = [...signedHeaders].map((h) => h.toLowerCase()).sort();
  let hdrs = '';
  for (const n of names) {
    const vals = map.get(n) || [];
    hdrs += `${n}:${vals.map(canonicalHeaderValue).join(',')}\n`;
  }
  return [method.toUpperCase(), canonicalUri(path), canonicalQuery(query), hdrs, names.join(';'),
    payloadHash].join('\n');
}

export function amzDate(date) {
  const d = date instanceof Date ? date : new Date(date);
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Parse 'YYYYMMDDTHHMMSSZ' -> ms since epoch, or NaN. */
export function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(String(s || ''));
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

export function stringToSign(amzdate, scope, canonicalRequestText) {
  return `${ALGORITHM}\n${amzdate}\n${scope}\n${sha256Hex(canonicalRequestText)}`;
}

export function signingKey(secret, date, region, service) {
  const kDate = hmac('AWS4' + secret, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

export function signature(secret, date, region, service, sts) {
  return createHmac('sha256', signingKey(secret, date, region, service)).update(sts, 'utf8').digest('hex');
}

/**
 * Sign a request.
 * opts: { method, url? | (path, query), headers (object or pairs), body (string|Buffer|null),
 *         accessKeyId, secretAccessKey, sessionToken?, region, service, date? (Date|string|ms),
 *         contentSha256?: bool (add x-amz-content-sha256), signedHeaders?: override list }
 * url may be absolute ("http://127.0.0.1:1234/model/x%3A0/converse?a=b"); then Host is taken from
 * it unless a host header is given. Returns { headers (object incl. authorization), canonicalRequest,
 * stringToSign, signature, authorization, signedHeaders, amzdate }.
 */
export function signRequest(opts) {
  const method = (opts.method || 'GET').toUpperCase();
  let path = opts.path;
  let query = opts.query;
  let urlHost;
  if (opts.url) {
    const u = new URL(opts.url);
    // Keep the path exactly as given (URL() would keep percent escapes as they are).
    const m = /^[a-z]+:\/\/[^/?#]*([^?#]*)(?:\?([^#]*))?/i.exec(opts.url);
    path = path ?? (m[1] || '/');
    query = query ?? (m[2] || '');
    urlHost = u.host;
  }
  if (Array.isArray(query)) query = buildQuery(query);
  path = path || '/';
  query = query || '';
  const body = opts.body == null ? Buffer.alloc(0) : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(String(opts.body), 'utf8');
  const date = opts.date == null ? new Date() : new Date(opts.date);
  const amzdate = amzDate(date);
  const day = amzdate.slice(0, 8);

  // Copy headers, dropping any existing date/auth/token we are about to set.
  const headers = {};
  for (const [k, v] of Object.entries(opts.headers || {})) {
    const lk = k.toLowerCase();
    if (lk === 'authorization' || lk === 'x-amz-date') continue;
    if (lk === 'x-amz-security-token' && opts.sessionToken) continue;
    headers[lk] = v;
  }
  if (!headers.host && urlHost) headers.host = urlHost;
  headers['x-amz-date'] = amzdate;
  if (opts.sessionToken) headers['x-amz-security-token'] = opts.sessionToken;
  const payloadHash = sha256Hex(body);
  if (opts.contentSha256) headers['x-amz-content-sha256'] = payloadHash;

  const signedHeaders = (opts.signedHeaders || Object.keys(headers).filter((h) => !UNSIGNABLE.has(h)))
    .map((h) => h.toLowerCase()).sort();
  const creq = canonicalRequest({ method, path, query, headers, signedHeaders, payloadHash });
  const scope = `${day}/${opts.region}/${opts.service}/aws4_request`;
  const sts = stringToSign(amzdate, scope, creq);
  const sig = signature(opts.secretAccessKey, day, opts.region, opts.service, sts);
  const authorization = `${ALGORITHM} Credential=${opts.accessKeyId}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${sig}`;
  headers.authorization = authorization;
  return { headers, canonicalRequest: creq, stringToSign: sts, signature: sig, authorization,
    signedHeaders, amzdate, path, query };
}

/** Parse an Authorization header. Returns {accessKeyId, date, region, service, terminator,
 * signedHeaders[], signature} or {error: text}. */
export function parseAuthorization(value) {
  if (!value) return { error: 'missing' };
  const v = String(value).trim();
  if (!v.startsWith(ALGORITHM + ' ')) return { error: `Authorization header requires the ${ALGORITHM} algorithm` };
  const rest = v.slice(ALGORITHM.length + 1);
  const parts = {};
  for (const p of rest.split(',')) {
    const t = p.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    if (eq < 0) return { error: `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=${v.split(' ')[0]}` };
    parts[t.slice(0, eq)] = t.slice(eq + 1);
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((k) => !parts[k]);
  if (missing.length) {
    return { error: `Authorization header requires '${missing.join("', '")}' parameter${missing.length > 1 ? 's' : ''}. Authorization=${ALGORITHM} ...` };
  }
  const cred = parts.Credential.split('/');
  if (cred.length !== 5) return { error: `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term` };
  const [accessKeyId, date, region, service, terminator] = cred;
  if (terminator !== 'aws4_request') return { error: "Credential should be scoped with a valid terminator: 'aws4_request'" };
  if (!/^[0-9a-f]{64}$/.test(parts.Signature)) return { error: 'Signature must be 64 lower-case hex characters' };
  return { accessKeyId, date, region, service, terminator,
    signedHeaders: parts.SignedHeaders.split(';').filter(Boolean), signature: parts.Signature };
}

/**
 * Recompute the signature of a received request (§3 steps 3-8) and compare.
 * req: {method, path, query (raw string), headers (pairs or object), body (Buffer)}
 * auth: result of parseAuthorization; secret: the key's secret.
 * Returns {ok, canonicalRequest, stringToSign, expected}.
 */
export function verifySignature(req, auth, secret) {
  const map = headerMap(req.headers);
  const amzdate = (map.get('x-amz-date') || [])[0];
  const payloadHash = sha256Hex(req.body || Buffer.alloc(0));
  const creq = canonicalRequest({ method: req.method, path: req.path, query: req.query,
    headers: req.headers, signedHeaders: auth.signedHeaders, payloadHash });
  const scope = `${auth.date}/${auth.region}/${auth.service}/${auth.terminator || 'aws4_request'}`;
  const sts = stringToSign(amzdate, scope, creq);
  const expected = signature(secret, auth.date, auth.region, auth.service, sts);
  const a = Buffer.from(expected), b = Buffer.from(String(auth.signature));
  const ok = a.length === b.length && timingSafeEqual(a, b);
  return { ok, canonicalRequest: creq, stringToSign: sts, expected };
}
