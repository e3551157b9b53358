#!/usr/bin/env node
// Local fake AWS (Bedrock Runtime, Bedrock control plane, STS) for modelgate's integration tests.
// Implements shared/spec/bedrock.md §10. Plain Node.js 20, no npm dependencies.
//
//   node tests/fakes/fake-aws.mjs [--listen HOST:PORT | --port N --host 127.0.0.1] [--config FILE.json]
//   (also built as the modelgate-fake-aws launcher: build/<preset>/tests/fakes/modelgate-fake-aws)
//   import { startFakeAws } from './fake-aws.mjs'; const fake = await startFakeAws({...});
//
// See tests/fakes/README.md for the configuration, the scripting/control API and the behaviour.
import http from 'node:http';
import net from 'node:net';
import { randomUUID, randomBytes, createHash } from 'node:crypto';
import zlib from 'node:zlib';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  headerMap, parseAuthorization, verifySignature, parseAmzDate, amzDate, percentDecode, sha256Hex,
} from './sigv4.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const ACCOUNT_ID = '123456789012';
export const DEFAULT_KEY_ID = 'AKIDMODELGATETEST';
export const DEFAULT_SECRET = 'modelgate/test/secret/key/0000000000000000';
export const DEFAULT_ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/modelgate-test`;
export const DEFAULT_REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-northeast-1'];
export const DEFAULT_LIFETIME_S = 3600;

// ---------------------------------------------------------------------------------------------
// Errors (spec §7)

/** Default HTTP status per exception name (§7.2). */
export const ERROR_STATUS = {
  UnrecognizedClientException: 403,
  InvalidSignatureException: 403,
  IncompleteSignatureException: 403,
  MissingAuthenticationTokenException: 403,
  ExpiredTokenException: 403,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ValidationException: 400,
  ThrottlingException: 429,
  ServiceQuotaExceededException: 400,
  ModelNotReadyException: 429,
  ModelTimeoutException: 408,
  ModelErrorException: 424,
  ModelStreamErrorException: 424,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
  UnknownOperationException: 404,
  ConflictException: 409,
  TooManyRequestsException: 429,
  SerializationException: 400,
};

const DEFAULT_MESSAGES = {
  UnrecognizedClientException: 'The security token included in the request is invalid.',
  InvalidSignatureException: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  IncompleteSignatureException: 'Authorization header requires \'Credential\' parameter.',
  MissingAuthenticationTokenException: 'Missing Authentication Token',
  ExpiredTokenException: 'The security token included in the request is expired',
  AccessDeniedException: "You don't have access to the model with the specified model ID.",
  ResourceNotFoundException: 'Could not resolve the foundation model from the provided model identifier.',
  ValidationException: 'The provided model identifier is invalid.',
  ThrottlingException: 'Too many requests, please wait before trying again.',
  ServiceQuotaExceededException: 'Your request exceeded the service quota for your account. Try again later.',
  ModelNotReadyException: 'Model is not ready for inference. Wait and try your request again.',
  ModelTimeoutException: 'Model has timed out in processing the request. Try your request again.',
  ModelErrorException: 'The system encountered an unexpected error during processing. Try your request again.',
  ModelStreamErrorException: 'Model stream error',
  InternalServerException: 'The server encountered an internal error while processing the request.',
  ServiceUnavailableException: 'Bedrock is unable to process your request.',
  UnknownOperationException: 'Unknown operation',
};

// Exception used when a script gives only a status.
const STATUS_TO_ERROR = { 400: 'ValidationException', 403: 'AccessDeniedException', 404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException', 424: 'ModelErrorException', 429: 'ThrottlingException', 500: 'InternalServerException',
  503: 'ServiceUnavailableException' };

const AUTH_ERRORS = new Set(['UnrecognizedClientException', 'InvalidSignatureException',
  'IncompleteSignatureException', 'MissingAuthenticationTokenException', 'ExpiredTokenException']);

// Members of the ConverseStream output union that are exceptions (sent as exception frames).
const STREAM_EXCEPTIONS = new Set(['InternalServerException', 'ModelStreamErrorException',
  'ValidationException', 'ThrottlingException', 'ServiceUnavailableException']);

// STS error codes (§2.1) and statuses.
export const STS_ERROR_STATUS = {
  AccessDenied: 403, InvalidClientTokenId: 403, SignatureDoesNotMatch: 403, ExpiredToken: 400,
  RegionDisabledException: 403, MalformedPolicyDocument: 400, PackedPolicyTooLarge: 400,
  Throttling: 400, InternalFailure: 500, ServiceUnavailable: 503, IncompleteSignature: 400,
  MissingAuthenticationToken: 403, InvalidAction: 400, ValidationError: 400, MissingParameter: 400,
};
// Bedrock-style names a script may use for the assume-role op, mapped to STS codes.
const BEDROCK_TO_STS = {
  AccessDeniedException: 'AccessDenied', ThrottlingException: 'Throttling',
  ExpiredTokenException: 'ExpiredToken', UnrecognizedClientException: 'InvalidClientTokenId',
  InvalidSignatureException: 'SignatureDoesNotMatch', InternalServerException: 'InternalFailure',
  ServiceUnavailableException: 'ServiceUnavailable', ValidationException: 'ValidationError',
  IncompleteSignatureException: 'IncompleteSignature',
  MissingAuthenticationTokenException: 'MissingAuthenticationToken',
};
const STS_DEFAULT_MESSAGES = {
  AccessDenied: 'Access denied',
  InvalidClientTokenId: 'The security token included in the request is invalid.',
  SignatureDoesNotMatch: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  ExpiredToken: 'The security token included in the request is expired',
  RegionDisabledException: `STS is not activated in this region for account:${ACCOUNT_ID}. Your account administrator can activate STS in this region using the IAM Console.`,
  Throttling: 'Rate exceeded',
  InternalFailure: 'An internal error occurred.',
  ServiceUnavailable: 'Service is unavailable. Please try again later.',
};

// ---------------------------------------------------------------------------------------------
// Event-stream encoding (spec §5.2)


function encodeHeader(name, type, value) {
  const nameBuf = Buffer.from(name, 'utf8');
  if (nameBuf.length < 1 || nameBuf.length > 255) throw new Error(`bad header name length: ${name}`);
  let valueBuf;
  let typeByte;
  switch (type) {
    case 'boolean': typeByte = value ? 0 : 1; valueBuf = Buffer.alloc(0); break;
    case 'byte': typeByte = 2; valueBuf = Buffer.alloc(1); valueBuf.writeInt8(Number(value)); break;
    case 'short': typeByte = 3; valueBuf = Buffer.alloc(2); valueBuf.writeInt16BE(Number(value)); break;
    case 'integer': typeByte = 4; valueBuf = Buffer.alloc(4); valueBuf.writeInt32BE(Number(value)); break;
    case 'long': typeByte = 5; valueBuf = Buffer.alloc(8); valueBuf.writeBigInt64BE(BigInt(value)); break;
    case 'binary': {
      typeByte = 6;
      const b = Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'hex');
      valueBuf = Buffer.alloc(2 + b.length); valueBuf.writeUInt16BE(b.length); b.copy(valueBuf, 2); break;
    }
    case 'string': {
      typeByte = 7;
      const b = Buffer.from(String(value), 'utf8');
      valueBuf = Buffer.alloc(2 + b.length); valueBuf.writeUInt16BE(b.length); b.copy(valueBuf, 2); break;
    }
    case 'timestamp': {
      typeByte = 8; valueBuf = Buffer.alloc(8);
      valueBuf.writeBigInt64BE(BigInt(value instanceof Date ? value.getTime() : value)); break;
    }
    case 'uuid': {
      typeByte = 9; valueBuf = Buffer.from(String(value).replace(/-/g, ''), 'hex');
      if (valueBuf.length !== 16) throw new Error('bad uuid'); break;
    }
    default: throw new Error(`unknown header type ${type}`);
  }
  return Buffer.concat([Buffer.from([nameBuf.length]), nameBuf, Buffer.from([typeByte]), valueBuf]);
}

/** headers: array of {name, type, value} (wire order) or object {name: stringValue}. */
export function encodeHeaders(headers) {
  const list = Array.isArray(headers) ? headers
    : Object.entries(headers || {}).map(([name, value]) => ({ name, type: 'string', value }));
  return Buffer.concat(list.map((h) => encodeHeader(h.name, h.type || 'string', h.value)));
}

/** Encode one event-stream message (prelude, prelude CRC, headers, payload, message CRC). */
export function encodeMessage(headers, payload) {
  const hdr = encodeHeaders(headers);
  const body = payload == null ? Buffer.alloc(0) : Buffer.isBuffer(payload) ? payload : Buffer.from(String(payload), 'utf8');
  const total = 16 + hdr.length + body.length;
  const buf = Buffer.alloc(total);
  buf.writeUInt32BE(total, 0);
  buf.writeUInt32BE(hdr.length, 4);
  buf.writeUInt32BE(zlib.crc32(buf.subarray(0, 8)), 8);
  hdr.copy(buf, 12);
  body.copy(buf, 12 + hdr.length);
  buf.writeUInt32BE(zlib.crc32(buf.subarray(0, total - 4)), total - 4);
  return buf;
}

/** Decode a buffer of concatenated messages; throws on any framing/CRC error. */
export function decodeEventStream(buf) {
  const out = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 12) throw new Error('truncated prelude');
    const total = buf.readUInt32BE(off);
    const hlen = buf.readUInt32BE(off + 4);
    if (zlib.crc32(buf.subarray(off, off + 8)) !== buf.readUInt32BE(off + 8)) throw new Error('prelude crc mismatch');
    if (total < 16 || hlen > total - 16) throw new Error('bad lengths');
    if (buf.length - off < total) throw new Error('truncated message');
    const msg = buf.subarray(off, off + total);
    if (zlib.crc32(msg.subarray(0, total - 4)) !== msg.readUInt32BE(total - 4)) throw new Error('message crc mismatch');
    const headers = {};
    let h = 12;
    const end = 12 + hlen;
    while (h < end) {
      const nlen = msg[h]; const name = msg.toString('utf8', h + 1, h + 1 + nlen); h += 1 + nlen;
      const type = msg[h]; h += 1;
      let value;
      switch (type) {
        case 0: value = true; break;
        case 1: value = false; break;
        case 2: value = msg.readInt8(h); h += 1; break;
        case 3: value = msg.readInt16BE(h); h += 2; break;
        case 4: value = msg.readInt32BE(h); h += 4; break;
        case 5: value = msg.readBigInt64BE(h).toString(); h += 8; break;
        case 6: { const l = msg.readUInt16BE(h); value = msg.subarray(h + 2, h + 2 + l).toString('hex'); h += 2 + l; break; }
        case 7: { const l = msg.readUInt16BE(h); value = msg.toString('utf8', h + 2, h + 2 + l); h += 2 + l; break; }
        case 8: value = Number(msg.readBigInt64BE(h)); h += 8; break;
        case 9: value = msg.subarray(h, h + 16).toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-'); h += 16; break;
        default: throw new Error(`unknown header type ${type}`);
      }
      headers[name] = value;
    }
    out.push({ headers, payload: msg.subarray(end, total - 4) });
    off += total;
  }
  return out;
}

const PAD = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A Bedrock ConverseStream event frame, with the "p" padding member. */
export function eventFrame(eventType, payload, padLen = 0) {
  const body = padLen > 0 ? { ...payload, p: PAD.slice(0, Math.min(padLen, PAD.length)) } : payload;
  return encodeMessage([
    { name: ':event-type', type: 'string', value: eventType },
    { name: ':content-type', type: 'string', value: 'application/json' },
    { name: ':message-type', type: 'string', value: 'event' },
  ], JSON.stringify(body));
}

/** Exception frame: name is the upper-camel exception name (e.g. ThrottlingException). */
export function exceptionFrame(name, payload) {
  return encodeMessage([
    { name: ':exception-type', type: 'string', value: name[0].toLowerCase() + name.slice(1) },
    { name: ':content-type', type: 'string', value: 'application/json' },
    { name: ':message-type', type: 'string', value: 'exception' },
  ], JSON.stringify(payload));
}

/** Unmodeled error frame (:message-type error, empty payload). */
export function errorFrame(code, message) {
  return encodeMessage([
    { name: ':message-type', type: 'string', value: 'error' },
    { name: ':error-code', type: 'string', value: code },
    { name: ':error-message', type: 'string', value: message },
  ], Buffer.alloc(0));
}

// ---------------------------------------------------------------------------------------------
// Model catalogue

export function loadFixtures(dir = path.join(HERE, 'fixtures')) {
  const map = new Map();
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    const data = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    map.set(f.replace(/\.json$/, ''), data.modelSummaries || []);
  }
  return map;
}

function geoPrefix(region) {
  if (region.startsWith('us-')) return 'us';
  if (region.startsWith('eu-')) return 'eu';
  if (region.startsWith('ap-')) return 'apac';
  return region.split('-')[0];
}

const GEO_NAMES = { us: 'US', eu: 'EU', apac: 'APAC' };

// Ids that Bedrock has retired: answering ResourceNotFoundException "end of its life".
const RETIRED_MODELS = new Set(['anthropic.claude-instant-v1', 'anthropic.claude-v2', 'anthropic.claude-v1',
  'amazon.titan-text-lite-v1:0:4k-retired', 'ai21.j2-ultra-v1', 'ai21.j2-mid-v1']);

// ---------------------------------------------------------------------------------------------
// State

function randomId(prefix, n) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = randomBytes(n);
  let s = prefix;
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
}

export class FakeAwsState {
  constructor(config = {}) {
    this.config = config;
    this.regions = Array.isArray(config.regions) && config.regions.length ? [...config.regions] : [...DEFAULT_REGIONS];
    this.clockSkewMs = (config.clock_skew_s ?? 300) * 1000;
    this.clockOffsetMs = (config.clock_offset_s ?? 0) * 1000;
    this.keys = new Map();
    this.keys.set(DEFAULT_KEY_ID, { secret: DEFAULT_SECRET, revoked: false });
    for (const [id, k] of Object.entries(config.keys || {})) this.keys.set(id, { revoked: false, ...k });
    this.roles = new Map();
    this.roles.set(DEFAULT_ROLE_ARN, { sources: [DEFAULT_KEY_ID] });
    for (const [arn, r] of Object.entries(config.roles || {})) this.roles.set(arn, { sources: [], ...r });
    this.tempCreds = new Map();
    this.scripts = [];
    this.nextScriptId = 1;
    this.requests = [];
    this.fixtures = loadFixtures(config.fixtures_dir);
    this.debug = !!(config.debug || process.env.FAKE_AWS_DEBUG);
  }

  now() { return Date.now() + this.clockOffsetMs; }
  setClockOffset(offsetS) { this.clockOffsetMs = Number(offsetS || 0) * 1000; }

  addScript(spec) {
    const id = String(this.nextScriptId++);
    const s = { ...spec, id, match: { ...(spec.match || {}) }, used: 0 };
    if (!s.error && s.status) s.error = STATUS_TO_ERROR[s.status] || (s.status >= 500 ? 'InternalServerException' : 'ValidationException');
    this.scripts.push(s);
    return id;
  }
  clearScripts() { this.scripts = []; }
  removeScript(id) {
    const n = this.scripts.length;
    this.scripts = this.scripts.filter((s) => s.id !== String(id));
    return this.scripts.length !== n;
  }

  /** First matching script (insertion order); consumes one of its `times`. */
  takeScript({ op, models, key, role }) {
    for (const s of this.scripts) {
      const m = s.match;
      if (m.op && !(m.op === op || (m.op === 'list' && (op === 'get-model' || op === 'list-profiles')))) continue;
      if (m.model && !models.includes(m.model)) continue;
      if (m.key && m.key !== key && m.key !== role) continue;
      s.used++;
      if (s.times != null) {
        s.times--;
        if (s.times <= 0) this.scripts = this.scripts.filter((x) => x !== s);
      }
      return s;
    }
    return null;
  }

  addKey({ id, secret, revoked, allow_models, allow_list, session_token }) {
    const existing = this.keys.get(id);
    const k = existing ? { ...existing } : { revoked: false };
    if (secret != null) k.secret = secret;
    if (revoked != null) k.revoked = !!revoked;
    if (allow_models !== undefined) k.allow_models = allow_models;
    if (allow_list !== undefined) k.allow_list = allow_list;
    if (session_token !== undefined) k.session_token = session_token;
    if (k.secret == null) throw new Error('secret is required for a new key');
    this.keys.set(id, k);
    // Revoking a permanent key also invalidates the temporary credentials issued from it.
    if (k.revoked) for (const t of this.tempCreds.values()) if (t.sourceKey === id) t.revoked = true;
    return k;
  }

  addRole({ arn, sources, external_id, lifetime_s, allow_models, allow_list }) {
    this.roles.set(arn, { sources: sources || [], external_id, lifetime_s, allow_models, allow_list });
  }

  record(entry) {
    this.requests.push(entry);
    if (this.requests.length > 10000) this.requests.splice(0, this.requests.length - 10000);
    return entry;
  }

  regionModels(region) {
    return this.fixtures.get(region) || [];
  }

  /** System-defined inference profiles visible from `region`. */
  inferenceProfiles(region) {
    const geo = geoPrefix(region);
    const geoRegions = this.regions.filter((r) => geoPrefix(r) === geo);
    const out = [];
    for (const m of this.regionModels(region)) {
      if (!(m.inferenceTypesSupported || []).includes('INFERENCE_PROFILE')) continue;
      const id = `${geo}.${m.modelId}`;
      const models = geoRegions.filter((r) => this.regionModels(r).some((x) => x.modelId === m.modelId))
        .map((r) => ({ modelArn: `arn:aws:bedrock:${r}::foundation-model/${m.modelId}` }));
      out.push({
        inferenceProfileName: `${GEO_NAMES[geo] || geo.toUpperCase()} ${m.modelName || m.modelId}`,
        description: `Routes requests to ${m.modelName || m.modelId} in ${geoRegions.join(', ')}.`,
        createdAt: '2024-08-27T00:00:00Z',
        updatedAt: '2024-08-27T00:00:00Z',
        inferenceProfileArn: `arn:aws:bedrock:${region}:${ACCOUNT_ID}:inference-profile/${id}`,
        models,
        inferenceProfileId: id,
        status: 'ACTIVE',
        type: 'SYSTEM_DEFINED',
      });
    }
    return out;
  }

  /**
   * Resolve a Converse model identifier in `region`.
   * Returns {modelId, summary, via: 'id'|'arn'|'profile'} or {error: [name, message], modelId?}.
   */
  resolveModel(region, ident) {
    const invalid = { error: ['ValidationException', 'The provided model identifier is invalid.'] };
    let id = ident;
    let via = 'id';
    let profile = null;
    const arn = /^arn:aws[a-z-]*:bedrock:([a-z0-9-]+):(\d*):([a-z-]+)\/(.+)$/.exec(ident);
    if (arn) {
      const [, arnRegion, , kind, rest] = arn;
      if (arnRegion !== region) return invalid;
      if (kind === 'foundation-model') { id = rest; via = 'arn'; }
      else if (kind === 'inference-profile') { profile = rest; via = 'profile'; }
      else if (kind === 'application-inference-profile') {
        const target = (this.config.application_inference_profiles || {})[rest];
        if (!target) return { error: ['ResourceNotFoundException', `Application inference profile ${rest} not found.`] };
        id = target; via = 'profile';
      } else return invalid;
    } else if (/^(us|eu|apac|global|us-gov|ca|jp|au)\./.test(ident)) {
      profile = ident; via = 'profile';
    }
    const models = this.regionModels(region);
    if (profile) {
      const p = this.inferenceProfiles(region).find((x) => x.inferenceProfileId === profile);
      if (!p) return invalid;
      id = profile.slice(profile.indexOf('.') + 1);
      const summary = models.find((m) => m.modelId === id);
      return { modelId: id, summary, via, profileId: profile };
    }
    const summary = models.find((m) => m.modelId === id);
    if (!summary) {
      if (RETIRED_MODELS.has(id)) {
        return { modelId: id, error: ['ResourceNotFoundException', 'This model version has reached the end of its life. Please refer to the AWS documentation for more details.'] };
      }
      for (const [r, list] of this.fixtures) {
        if (r !== region && list.some((m) => m.modelId === id)) {
          return { modelId: id, error: ['ResourceNotFoundException', 'Could not resolve the foundation model from the provided model identifier.'] };
        }
      }
      return { modelId: id, ...invalid };
    }
    const types = summary.inferenceTypesSupported || [];
    if (!(summary.outputModalities || []).includes('TEXT')) {
      return { modelId: id, summary, error: ['ValidationException', "This action doesn't support the model that you provided. Try again with a supported text or chat model."] };
    }
    if (!types.includes('ON_DEMAND')) {
      if (types.includes('INFERENCE_PROFILE')) {
        return { modelId: id, summary, error: ['ValidationException', `Invocation of model ID ${id} with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model.`] };
      }
      return { modelId: id, summary, ...invalid };
    }
    return { modelId: id, summary, via };
  }
}

// ---------------------------------------------------------------------------------------------
// Deterministic model

function words(s) { return String(s || '').split(/\s+/).filter(Boolean); }

function lastUserText(messages) {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.role !== 'user') continue;
    const texts = (m.content || []).filter((b) => typeof b.text === 'string').map((b) => b.text);
    if (texts.length) return texts.join(' ');
    const results = [];
    for (const b of m.content || []) {
      if (!b.toolResult) continue;
      for (const c of b.toolResult.content || []) {
        if (typeof c.text === 'string') results.push(c.text);
        else if (c.json !== undefined) results.push(JSON.stringify(c.json));
      }
    }
    return results.join(' ');
  }
  return '';
}

function countInputTokens(messages) {
  let n = 0;
  for (const m of messages) for (const b of m.content || []) if (typeof b.text === 'string') n += words(b.text).length;
  return n;
}

/** Produce the model's answer: {content: [...blocks], stopReason, usage}. */
export function generateAnswer(body, overrides = {}) {
  const messages = body.messages || [];
  const text = lastUserText(messages);
  const inputTokens = countInputTokens(messages);
  const tools = (body.toolConfig && Array.isArray(body.toolConfig.tools)) ? body.toolConfig.tools : [];
  const toolSpecs = tools.map((t) => t.toolSpec).filter(Boolean);
  if (overrides.text == null && /use the tool/i.test(text) && toolSpecs.length) {
    const choice = body.toolConfig.toolChoice;
    const named = choice && choice.tool && choice.tool.name;
    const spec = (named && toolSpecs.find((t) => t.name === named)) || toolSpecs[0];
    const toolUseId = 'tooluse_' + createHash('sha256').update(`${spec.name}|${messages.length}|${text}`)
      .digest('base64url').slice(0, 22);
    return {
      content: [{ toolUse: { toolUseId, name: spec.name, input: {} } }],
      stopReason: 'tool_use',
      usage: { inputTokens, outputTokens: 1, totalTokens: inputTokens + 1 },
    };
  }
  let out = overrides.text != null ? String(overrides.text) : `echo: ${text}`;
  let stopReason = 'end_turn';
  const cfg = body.inferenceConfig || {};
  if (Array.isArray(cfg.stopSequences) && cfg.stopSequences.length) {
    let best = -1;
    for (const s of cfg.stopSequences) {
      if (typeof s !== 'string' || !s) continue;
      const i = out.indexOf(s);
      if (i >= 0 && (best < 0 || i < best)) best = i;
    }
    if (best >= 0) { out = out.slice(0, best); stopReason = 'stop_sequence'; }
  }
  const w = words(out);
  if (Number.isInteger(cfg.maxTokens) && cfg.maxTokens < w.length) {
    out = w.slice(0, cfg.maxTokens).join(' ');
    stopReason = 'max_tokens';
  }
  if (overrides.stop_reason) stopReason = overrides.stop_reason;
  const outputTokens = words(out).length;
  return {
    content: [{ text: out }],
    stopReason,
    usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
  };
}

/** Split text into >= 2 pieces whose concatenation is the text. */
function splitDeltas(text) {
  const pieces = text.match(/\s*\S+\s*/g) || [];
  if (pieces.join('') !== text) return [text.slice(0, Math.ceil(text.length / 2)), text.slice(Math.ceil(text.length / 2))];
  if (pieces.length >= 2) return pieces;
  const cps = [...text];
  const half = Math.ceil(cps.length / 2);
  return [cps.slice(0, half).join(''), cps.slice(half).join('')];
}

/** Build the ConverseStream events (as [eventType, payload]) for an answer. */
export function streamEvents(answer, latencyMs) {
  const ev = [['messageStart', { role: 'assistant' }]];
  answer.content.forEach((block, index) => {
    if (block.text != null) {
      for (const piece of splitDeltas(block.text)) ev.push(['contentBlockDelta', { contentBlockIndex: index, delta: { text: piece } }]);
    } else if (block.toolUse) {
      const { toolUseId, name, input } = block.toolUse;
      ev.push(['contentBlockStart', { contentBlockIndex: index, start: { toolUse: { toolUseId, name } } }]);
      const json = JSON.stringify(input ?? {});
      const cut = Math.ceil(json.length / 2);
      ev.push(['contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input: json.slice(0, cut) } } }]);
      ev.push(['contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input: json.slice(cut) } } }]);
    }
    ev.push(['contentBlockStop', { contentBlockIndex: index }]);
  });
  ev.push(['messageStop', { stopReason: answer.stopReason }]);
  ev.push(['metadata', { usage: answer.usage, metrics: { latencyMs } }]);
  return ev;
}

// ---------------------------------------------------------------------------------------------
// Converse request validation (§4.1 checks 1-5)

function validationMessage(field, constraint, value) {
  return `1 validation error detected: Value ${value === undefined || value === null ? 'null' : `'${typeof value === 'object' ? JSON.stringify(value) : value}'`} at '${field}' failed to satisfy constraint: ${constraint}`;
}

export function validateConverse(body) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'Malformed input request, please reformat your input and try again.';
  const { messages } = body;
  if (messages === undefined || messages === null) return validationMessage('messages', 'Member must not be null', null);
  if (!Array.isArray(messages)) return 'Malformed input request, please reformat your input and try again.';
  if (messages.length === 0) return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
  let hasToolBlocks = false;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (!m || typeof m !== 'object') return 'Malformed input request, please reformat your input and try again.';
    if (m.role !== 'user' && m.role !== 'assistant') {
      return validationMessage(`messages.${i + 1}.member.role`, 'Member must satisfy enum value set: [user, assistant]', m.role);
    }
    if (i === 0 && m.role !== 'user') return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
    if (i > 0 && m.role === messages[i - 1].role) return 'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.';
    if (!Array.isArray(m.content) || m.content.length === 0) {
      return `The content field in the Message object at messages.${i} is empty. Add a ContentBlock object to the content field and try again.`;
    }
    for (let j = 0; j < m.content.length; j++) {
      const b = m.content[j];
      if (!b || typeof b !== 'object') return 'Malformed input request, please reformat your input and try again.';
      if ('text' in b) {
        if (typeof b.text !== 'string' || b.text.trim() === '') {
          return `The text field in the ContentBlock object at messages.${i}.content.${j} is blank. Add text to the text field, and try again.`;
        }
      }
      if (b.toolUse || b.toolResult) hasToolBlocks = true;
      if (b.toolUse && m.role !== 'assistant') return `The toolUse content block at messages.${i}.content.${j} can only appear in an assistant message.`;
      if (b.toolResult && m.role !== 'user') return `The toolResult content block at messages.${i}.content.${j} can only appear in a user message.`;
    }
  }
  if (body.system !== undefined) {
    if (!Array.isArray(body.system)) return 'Malformed input request, please reformat your input and try again.';
    for (let k = 0; k < body.system.length; k++) {
      const s = body.system[k];
      if (s && 'text' in s && (typeof s.text !== 'string' || s.text.trim() === '')) {
        return `The text field in the SystemContentBlock object at system.${k} is blank. Add text to the text field, and try again.`;
      }
    }
  }
  const tc = body.toolConfig;
  if (hasToolBlocks && !tc) return 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';
  if (tc !== undefined) {
    if (!tc || !Array.isArray(tc.tools) || tc.tools.length === 0) {
      return validationMessage('toolConfig.tools', 'Member must have length greater than or equal to 1', tc && tc.tools);
    }
    for (let t = 0; t < tc.tools.length; t++) {
      const spec = tc.tools[t] && tc.tools[t].toolSpec;
      if (!spec) continue;
      if (typeof spec.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(spec.name)) {
        return validationMessage(`toolConfig.tools.${t + 1}.member.toolSpec.name`, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+', spec.name);
      }
    }
    const choice = tc.toolChoice;
    if (choice && choice.tool && !tc.tools.some((x) => x.toolSpec && x.toolSpec.name === choice.tool.name)) {
      return `The tool ${choice.tool.name} specified in toolChoice is not defined in toolConfig.tools.`;
    }
  }
  const ic = body.inferenceConfig;
  if (ic !== undefined) {
    if (!ic || typeof ic !== 'object') return 'Malformed input request, please reformat your input and try again.';
    for (const f of ['temperature', 'topP']) {
      if (ic[f] === undefined) continue;
      if (typeof ic[f] !== 'number') return validationMessage(`inferenceConfig.${f}`, 'Member must be a number', ic[f]);
      if (ic[f] > 1) return validationMessage(`inferenceConfig.${f}`, 'Member must have value less than or equal to 1', ic[f]);
      if (ic[f] < 0) return validationMessage(`inferenceConfig.${f}`, 'Member must have value greater than or equal to 0', ic[f]);
    }
    if (ic.maxTokens !== undefined && (!Number.isInteger(ic.maxTokens) || ic.maxTokens < 1)) {
      return validationMessage('inferenceConfig.maxTokens', 'Member must have value greater than or equal to 1', ic.maxTokens);
    }
    if (ic.stopSequences !== undefined) {
      if (!Array.isArray(ic.stopSequences)) return 'Malformed input request, please reformat your input and try again.';
      for (const s of ic.stopSequences) {
        if (typeof s !== 'string' || s === '') return validationMessage('inferenceConfig.stopSequences', 'Member must have length greater than or equal to 1', s);
      }
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// HTTP server

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function xmlEscape(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function isoSeconds(ms) { return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'); }

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function route(method, rawPath, rawQuery, body) {
  let m;
  if ((m = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec(rawPath))) {
    if (method !== 'POST') return { op: 'unknown' };
    return { op: m[2], model: percentDecode(m[1]).toString('utf8'), service: 'bedrock' };
  }
  if (rawPath === '/foundation-models') return method === 'GET' ? { op: 'list', service: 'bedrock' } : { op: 'unknown' };
  if ((m = /^\/foundation-models\/([^/]+)$/.exec(rawPath))) {
    return method === 'GET' ? { op: 'get-model', model: percentDecode(m[1]).toString('utf8'), service: 'bedrock' } : { op: 'unknown' };
  }
  if (rawPath === '/inference-profiles') return method === 'GET' ? { op: 'list-profiles', service: 'bedrock' } : { op: 'unknown' };
  if (rawPath === '/') {
    const params = new URLSearchParams(rawQuery);
    if (method === 'POST') for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
    if (method === 'POST' || params.has('Action')) return { op: 'assume-role', service: 'sts', params };
  }
  return { op: 'unknown' };
}

function makeHandler(state) {
  return async function handle(req, res) {
    const started = Date.now();
    const url = req.url || '/';
    const qi = url.indexOf('?');
    const rawPath = qi < 0 ? url : url.slice(0, qi);
    const rawQuery = qi < 0 ? '' : url.slice(qi + 1);
    let body;
    try { body = await readBody(req); } catch { return; }
    if (rawPath === '/__fake' || rawPath.startsWith('/__fake/')) return control(state, req, res, rawPath, rawQuery, body);

    const r = route(req.method, rawPath, rawQuery, body);
    const entry = state.record({ op: r.op === 'unknown' ? 'unknown' : r.op, model: r.model ?? null, region: null, key: null,
      time: new Date(state.now()).toISOString(), status: null });
    if (r.op === 'unknown') {
      entry.method = req.method; entry.path = rawPath;
    }
    const requestId = randomUUID();
    const ctx = { state, req, res, entry, route: r, body, rawPath, rawQuery, started, requestId, isSts: r.service === 'sts' };
    try {
      if (r.op === 'unknown') {
        return sendError(ctx, 'UnknownOperationException', 'UnknownOperationException', 404);
      }
      const identity = authenticate(ctx);
      if (!identity) return;
      ctx.identity = identity;
      switch (r.op) {
        case 'converse':
        case 'converse-stream':
          return await handleConverse(ctx);
        case 'list':
        case 'get-model':
        case 'list-profiles':
          return await handleControlPlane(ctx);
        case 'assume-role':
          return await handleAssumeRole(ctx);
        default:
          return sendError(ctx, 'UnknownOperationException', 'UnknownOperationException', 404);
      }
    } catch (err) {
      if (state.debug) console.error('fake-aws: handler error', err);
      if (!res.headersSent) sendError(ctx, 'InternalServerException', `fake-aws internal error: ${err.message}`, 500);
      else res.destroy();
    }
  };
}

// ---- responses

function sendJson(ctx, status, obj, extraHeaders = {}) {
  const data = Buffer.from(JSON.stringify(obj), 'utf8');
  ctx.entry.status = status;
  ctx.res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length,
    'x-amzn-RequestId': ctx.requestId, ...extraHeaders });
  ctx.res.end(data);
}

/** Send a §7.1 JSON error (or, for STS, the §2.1 XML error). */
function sendError(ctx, name, message, status, extra = {}) {
  if (ctx.isSts) return sendStsError(ctx, BEDROCK_TO_STS[name] || name, message, status);
  const st = status ?? ERROR_STATUS[name] ?? 400;
  const ns = AUTH_ERRORS.has(name) ? 'http://internal.amazon.com/coral/com.amazon.coral.service/'
    : 'http://internal.amazon.com/coral/com.amazon.bedrock/';
  ctx.entry.error = name;
  sendJson(ctx, st, { message: message ?? DEFAULT_MESSAGES[name] ?? name, ...extra }, { 'x-amzn-ErrorType': `${name}:${ns}` });
}

function sendStsError(ctx, code, message, status) {
  const st = status ?? STS_ERROR_STATUS[code] ?? 400;
  const type = st >= 500 ? 'Receiver' : 'Sender';
  const xml = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${xmlEscape(code)}</Code>\n    <Message>${xmlEscape(message ?? STS_DEFAULT_MESSAGES[code] ?? code)}</Message>\n  </Error>\n  <RequestId>${ctx.requestId}</RequestId>\n</ErrorResponse>\n`;
  const data = Buffer.from(xml, 'utf8');
  ctx.entry.status = st;
  ctx.entry.error = code;
  ctx.res.writeHead(st, { 'Content-Type': 'text/xml', 'Content-Length': data.length, 'x-amzn-RequestId': ctx.requestId });
  ctx.res.end(data);
}

// ---- SigV4 verification (§3, §10)

function authError(ctx, bedrockName, stsCode, message) {
  if (ctx.isSts) return sendStsError(ctx, stsCode, message);
  return sendError(ctx, bedrockName, message);
}

function principalArn(identity) {
  if (identity.temporary) {
    const roleName = identity.roleArn.split('/').pop();
    return `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${roleName}/${identity.sessionName}`;
  }
  return `arn:aws:iam::${ACCOUNT_ID}:user/${identity.keyId === DEFAULT_KEY_ID ? 'modelgate-test' : identity.keyId}`;
}

function authenticate(ctx) {
  const { state, req, entry } = ctx;
  const headers = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  const map = headerMap(headers);
  const authz = (map.get('authorization') || [])[0];
  if (!authz) {
    authError(ctx, 'MissingAuthenticationTokenException', 'MissingAuthenticationToken',
      ctx.isSts ? 'Request is missing Authentication Token' : 'Missing Authentication Token');
    return null;
  }
  const auth = parseAuthorization(authz);
  if (auth.error) {
    authError(ctx, 'IncompleteSignatureException', 'IncompleteSignature', auth.error);
    return null;
  }
  entry.key = auth.accessKeyId;
  entry.region = auth.region;
  const amz = (map.get('x-amz-date') || [])[0];
  const reqMs = parseAmzDate(amz);
  if (!amz || Number.isNaN(reqMs)) {
    authError(ctx, 'IncompleteSignatureException', 'IncompleteSignature',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 ...");
    return null;
  }
  if (!auth.signedHeaders.includes('host')) {
    authError(ctx, 'IncompleteSignatureException', 'IncompleteSignature', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    return null;
  }
  if (auth.date !== amz.slice(0, 8)) {
    authError(ctx, 'InvalidSignatureException', 'SignatureDoesNotMatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${amz.slice(0, 8)}', from '${amz}'.`);
    return null;
  }
  const service = ctx.route.service;
  if (auth.service !== service) {
    authError(ctx, 'InvalidSignatureException', 'SignatureDoesNotMatch', `Credential should be scoped to correct service: '${service}'. `);
    return null;
  }
  if (!state.regions.includes(auth.region)) {
    authError(ctx, 'UnrecognizedClientException', 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    return null;
  }
  // Key lookup.
  const token = (map.get('x-amz-security-token') || [])[0];
  let identity;
  const perm = state.keys.get(auth.accessKeyId);
  const temp = state.tempCreds.get(auth.accessKeyId);
  if (perm && !perm.revoked) {
    if ((perm.session_token || token) && perm.session_token !== token) {
      authError(ctx, 'UnrecognizedClientException', 'InvalidClientTokenId', 'The security token included in the request is invalid.');
      return null;
    }
    identity = { keyId: auth.accessKeyId, secret: perm.secret, temporary: false, allow_models: perm.allow_models,
      allow_list: perm.allow_list, sourceKey: auth.accessKeyId };
  } else if (temp && !temp.revoked) {
    if (!token || token !== temp.sessionToken) {
      authError(ctx, 'UnrecognizedClientException', 'InvalidClientTokenId', 'The security token included in the request is invalid.');
      return null;
    }
    identity = { keyId: auth.accessKeyId, secret: temp.secret, temporary: true, roleArn: temp.roleArn,
      sessionName: temp.sessionName, sourceKey: temp.sourceKey, allow_models: temp.allow_models,
      allow_list: temp.allow_list, expiresAt: temp.expiresAt };
    entry.role = temp.roleArn;
  } else {
    authError(ctx, 'UnrecognizedClientException', 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    return null;
  }
  // Clock window.
  const now = state.now();
  if (reqMs < now - state.clockSkewMs) {
    authError(ctx, 'InvalidSignatureException', 'SignatureDoesNotMatch',
      `Signature expired: ${amz} is now earlier than ${amzDate(now - state.clockSkewMs)} (${amzDate(now)} - ${Math.round(state.clockSkewMs / 60000)} min.)`);
    return null;
  }
  if (reqMs > now + state.clockSkewMs) {
    authError(ctx, 'InvalidSignatureException', 'SignatureDoesNotMatch',
      `Signature not yet current: ${amz} is still later than ${amzDate(now + state.clockSkewMs)} (${amzDate(now)} + ${Math.round(state.clockSkewMs / 60000)} min.)`);
    return null;
  }
  // Payload hash header, when sent, must be the real one.
  const sentHash = (map.get('x-amz-content-sha256') || [])[0];
  if (sentHash !== undefined && sentHash !== sha256Hex(ctx.body)) {
    authError(ctx, 'InvalidSignatureException', 'SignatureDoesNotMatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.");
    return null;
  }
  const v = verifySignature({ method: req.method, path: ctx.rawPath, query: ctx.rawQuery, headers, body: ctx.body },
    auth, identity.secret);
  if (!v.ok) {
    if (state.debug) console.error(`fake-aws: signature mismatch for ${auth.accessKeyId}\n--- canonical request ---\n${v.canonicalRequest}\n--- string to sign ---\n${v.stringToSign}`);
    authError(ctx, 'InvalidSignatureException', 'SignatureDoesNotMatch', DEFAULT_MESSAGES.InvalidSignatureException);
    return null;
  }
  // Temporary credentials: expiry (checked after the signature, like AWS).
  if (identity.temporary && now >= identity.expiresAt) {
    authError(ctx, 'ExpiredTokenException', 'ExpiredToken', 'The security token included in the request is expired');
    return null;
  }
  identity.region = auth.region;
  identity.arn = principalArn(identity);
  return identity;
}

// ---- scripting

/**
 * Apply a matched script before the normal response. Returns true when the response was fully
 * handled (error sent, connection dropped, corrupt body sent).
 */
async function applyScriptBefore(ctx, script) {
  if (!script) return false;
  const stream = ctx.route.op === 'converse-stream';
  const midStream = stream && script.after_events != null;
  if (midStream) return false; // handled while streaming
  if (script.delay_ms) await sleep(script.delay_ms);
  if (script.drop) {
    ctx.entry.status = 0; ctx.entry.error = 'drop';
    ctx.req.socket.destroy();
    return true;
  }
  if (script.corrupt_frame) {
    ctx.entry.error = 'corrupt';
    if (stream) {
      ctx.entry.status = 200;
      ctx.res.writeHead(200, { 'Content-Type': 'application/vnd.amazon.eventstream', 'x-amzn-RequestId': ctx.requestId });
      ctx.res.end(corrupt(eventFrame('messageStart', { role: 'assistant' }, 7)));
    } else if (ctx.isSts) {
      ctx.entry.status = 200;
      ctx.res.writeHead(200, { 'Content-Type': 'text/xml', 'x-amzn-RequestId': ctx.requestId });
      ctx.res.end('<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIA');
    } else {
      ctx.entry.status = 200;
      ctx.res.writeHead(200, { 'Content-Type': 'application/json', 'x-amzn-RequestId': ctx.requestId });
      ctx.res.end('{"output":{"message":{"role":"assistant","content":[{"text":"echo');
    }
    return true;
  }
  if (script.error) {
    sendError(ctx, script.error, script.message ?? (ctx.isSts ? undefined : DEFAULT_MESSAGES[script.error]), script.status, errorExtras(script));
    return true;
  }
  return false;
}

function errorExtras(script) {
  if (script.error === 'ModelErrorException') {
    return { originalStatusCode: script.original_status_code ?? 500, resourceName: script.resource_name ?? 'fake-model' };
  }
  return {};
}

/** Flip one payload byte so that the message CRC no longer matches. */
function corrupt(frame) {
  const b = Buffer.from(frame);
  const hlen = b.readUInt32BE(4);
  const i = 12 + hlen < b.length - 4 ? 12 + hlen : b.length - 1;
  b[i] ^= 0x01;
  return b;
}

// ---- Bedrock Runtime

function modelAllowed(allow, candidates) {
  if (!Array.isArray(allow)) return true;
  return candidates.some((c) => c && allow.includes(c));
}

async function handleConverse(ctx) {
  const { state, identity, route: r } = ctx;
  const region = identity.region;
  const resolved = state.resolveModel(region, r.model);
  const candidates = [r.model, resolved.modelId, resolved.profileId].filter(Boolean);
  const script = state.takeScript({ op: r.op, models: candidates, key: identity.keyId, role: identity.roleArn });
  if (script) ctx.entry.script = script.id;
  if (await applyScriptBefore(ctx, script)) return;

  const action = r.op === 'converse-stream' ? 'bedrock:InvokeModelWithResponseStream' : 'bedrock:InvokeModel';
  if (!modelAllowed(identity.allow_models, candidates)) {
    const res = resolved.profileId
      ? `arn:aws:bedrock:${region}:${ACCOUNT_ID}:inference-profile/${resolved.profileId}`
      : `arn:aws:bedrock:${region}::foundation-model/${resolved.modelId || r.model}`;
    return sendError(ctx, 'AccessDeniedException',
      `User: ${identity.arn} is not authorized to perform: ${action} on resource: ${res} because no identity-based policy allows the ${action} action`);
  }
  if (resolved.error) return sendError(ctx, resolved.error[0], resolved.error[1]);
  ctx.entry.resolved_model = resolved.modelId;

  let body;
  try { body = JSON.parse(ctx.body.toString('utf8') || 'null'); } catch {
    return sendError(ctx, 'ValidationException', 'Malformed input request, please reformat your input and try again.');
  }
  const problem = validateConverse(body);
  if (problem) return sendError(ctx, 'ValidationException', problem);
  if (r.op === 'converse-stream' && resolved.summary && resolved.summary.responseStreamingSupported === false) {
    return sendError(ctx, 'ValidationException', 'The model is unsupported for streaming.');
  }
  const answer = generateAnswer(body, script || {});

  if (r.op === 'converse') {
    return sendJson(ctx, 200, {
      output: { message: { role: 'assistant', content: answer.content } },
      stopReason: answer.stopReason,
      usage: answer.usage,
      metrics: { latencyMs: Math.max(1, Date.now() - ctx.started) },
    });
  }
  return streamAnswer(ctx, answer, script);
}

async function streamAnswer(ctx, answer, script) {
  const { res, entry } = ctx;
  const events = streamEvents(answer, 0);
  entry.status = 200;
  entry.events = 0;
  res.writeHead(200, { 'Content-Type': 'application/vnd.amazon.eventstream', 'x-amzn-RequestId': ctx.requestId });
  const gap = (script && script.event_delay_ms) || ctx.state.config.event_delay_ms || 0;
  const stopAt = script && script.after_events != null ? Math.max(0, Number(script.after_events)) : Infinity;
  for (let i = 0; i < events.length; i++) {
    if (i === stopAt) {
      if (script.delay_ms) await sleep(script.delay_ms);
      if (res.destroyed) return;
      if (script.drop) { entry.error = 'drop'; cutMidStream(ctx); return; }
      if (script.corrupt_frame) {
        entry.error = 'corrupt';
        const [type, payload] = events[i];
        res.end(corrupt(eventFrame(type, payload, 3 + i)));
        return;
      }
      if (script.error) {
        entry.error = script.error;
        res.end(streamErrorFrame(script));
        return;
      }
    }
    if (res.destroyed) return;
    let [type, payload] = events[i];
    if (type === 'metadata') payload = { ...payload, metrics: { latencyMs: Math.max(1, Date.now() - ctx.started) } };
    res.write(eventFrame(type, payload, 1 + ((i * 17 + 5) % 40)));
    entry.events++;
    if (gap && i < events.length - 1) await sleep(gap);
  }
  // after_events >= number of events: apply the scripted ending after the last event.
  if (script && stopAt >= events.length && stopAt !== Infinity) {
    if (script.delay_ms) await sleep(script.delay_ms);
    if (script.drop) { entry.error = 'drop'; cutMidStream(ctx); return; }
    if (script.corrupt_frame) { entry.error = 'corrupt'; res.end(corrupt(eventFrame('metadata', { usage: answer.usage }, 9))); return; }
    if (script.error) { entry.error = script.error; res.end(streamErrorFrame(script)); return; }
  }
  res.end();
}

/**
 * Cut a stream that has started: the frames already written are flushed, then the connection is
 * closed without the terminating chunk (socket.destroy() alone would discard unflushed frames,
 * so the client would see a failure before the response instead of one mid-stream).
 */
function cutMidStream(ctx) {
  const socket = ctx.req.socket;
  socket.end();
  setTimeout(() => socket.destroy(), 1000).unref();
}

function streamErrorFrame(script) {
  const name = script.error;
  const message = script.message ?? DEFAULT_MESSAGES[name] ?? name;
  if (STREAM_EXCEPTIONS.has(name) && !script.unmodeled) {
    const payload = { message };
    if (name === 'ModelStreamErrorException') {
      payload.originalStatusCode = script.original_status_code ?? 500;
      payload.originalMessage = script.original_message ?? 'upstream model crashed';
    }
    return exceptionFrame(name, payload);
  }
  return errorFrame(name, message);
}

// ---- Bedrock control plane

const ENUMS = {
  byOutputModality: ['TEXT', 'IMAGE', 'EMBEDDING'],
  byInferenceType: ['ON_DEMAND', 'PROVISIONED'],
  byCustomizationType: ['FINE_TUNING', 'CONTINUED_PRE_TRAINING', 'DISTILLATION'],
};

async function handleControlPlane(ctx) {
  const { state, identity, route: r } = ctx;
  const region = identity.region;
  const script = state.takeScript({ op: r.op, models: [r.model].filter(Boolean), key: identity.keyId, role: identity.roleArn });
  if (script) ctx.entry.script = script.id;
  if (await applyScriptBefore(ctx, script)) return;
  const actionName = { list: 'ListFoundationModels', 'get-model': 'GetFoundationModel', 'list-profiles': 'ListInferenceProfiles' }[r.op];
  if (identity.allow_list === false) {
    return sendError(ctx, 'AccessDeniedException',
      `User: ${identity.arn} is not authorized to perform: bedrock:${actionName} because no identity-based policy allows the bedrock:${actionName} action`);
  }
  const q = new URLSearchParams(ctx.rawQuery);
  const models = state.regionModels(region);
  if (r.op === 'list') {
    for (const [k, allowed] of Object.entries(ENUMS)) {
      const v = q.get(k);
      if (v != null && !allowed.includes(v)) {
        return sendError(ctx, 'ValidationException', validationMessage(k, `Member must satisfy enum value set: [${allowed.join(', ')}]`, v));
      }
    }
    const prov = q.get('byProvider');
    const out = models.filter((m) => (prov == null || String(m.providerName || '').toLowerCase() === prov.toLowerCase())
      && (!q.has('byOutputModality') || (m.outputModalities || []).includes(q.get('byOutputModality')))
      && (!q.has('byInferenceType') || (m.inferenceTypesSupported || []).includes(q.get('byInferenceType')))
      && (!q.has('byCustomizationType') || (m.customizationsSupported || []).includes(q.get('byCustomizationType'))));
    return sendJson(ctx, 200, { modelSummaries: out });
  }
  if (r.op === 'get-model') {
    let id = r.model;
    const arn = /^arn:aws[a-z-]*:bedrock:([a-z0-9-]+)::foundation-model\/(.+)$/.exec(id);
    if (arn) id = arn[1] === region ? arn[2] : null;
    const m = id && models.find((x) => x.modelId === id);
    if (!m) return sendError(ctx, 'ResourceNotFoundException', `The requested model ${r.model} was not found.`);
    return sendJson(ctx, 200, { modelDetails: m });
  }
  // list-profiles
  const type = q.get('type') || 'SYSTEM_DEFINED';
  if (!['SYSTEM_DEFINED', 'APPLICATION'].includes(type)) {
    return sendError(ctx, 'ValidationException', validationMessage('typeEquals', 'Member must satisfy enum value set: [SYSTEM_DEFINED, APPLICATION]', type));
  }
  const maxResults = q.has('maxResults') ? Number(q.get('maxResults')) : 1000;
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 1000) {
    return sendError(ctx, 'ValidationException', validationMessage('maxResults', 'Member must have value between 1 and 1000', q.get('maxResults')));
  }
  let start = 0;
  if (q.has('nextToken')) {
    const m = /^fake-(\d+)$/.exec(Buffer.from(q.get('nextToken'), 'base64url').toString('utf8'));
    if (!m) return sendError(ctx, 'ValidationException', 'Invalid pagination token.');
    start = Number(m[1]);
  }
  const all = type === 'SYSTEM_DEFINED' ? state.inferenceProfiles(region) : [];
  const page = all.slice(start, start + maxResults);
  const resp = { inferenceProfileSummaries: page };
  if (start + maxResults < all.length) resp.nextToken = Buffer.from(`fake-${start + maxResults}`).toString('base64url');
  return sendJson(ctx, 200, resp);
}

// ---- STS

async function handleAssumeRole(ctx) {
  const { state, identity, route: r } = ctx;
  const p = r.params;
  const roleArn = p.get('RoleArn');
  ctx.entry.model = null;
  ctx.entry.role = roleArn ?? null;
  const script = state.takeScript({ op: 'assume-role', models: [roleArn].filter(Boolean), key: identity.keyId, role: identity.roleArn });
  if (script) ctx.entry.script = script.id;
  if (await applyScriptBefore(ctx, script)) return;

  const action = p.get('Action');
  if (action !== 'AssumeRole') {
    return sendStsError(ctx, 'InvalidAction', `Could not find operation ${action ?? ''} for version ${p.get('Version') ?? 'NO_VERSION_SPECIFIED'}`);
  }
  const sessionName = p.get('RoleSessionName');
  if (!roleArn) return sendStsError(ctx, 'ValidationError', validationMessage('roleArn', 'Member must not be null', null));
  if (!sessionName) return sendStsError(ctx, 'ValidationError', validationMessage('roleSessionName', 'Member must not be null', null));
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    return sendStsError(ctx, 'ValidationError', validationMessage('roleSessionName', 'Member must satisfy regular expression pattern: [\\w+=,.@-]*', sessionName));
  }
  let duration = DEFAULT_LIFETIME_S;
  if (p.has('DurationSeconds')) {
    duration = Number(p.get('DurationSeconds'));
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
      return sendStsError(ctx, 'ValidationError', validationMessage('durationSeconds', 'Member must have value between 900 and 43200', p.get('DurationSeconds')));
    }
  }
  const role = state.roles.get(roleArn);
  const denied = `User: ${identity.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`;
  if (!role || !(role.sources.includes(identity.keyId) || role.sources.includes(identity.sourceKey))) {
    return sendStsError(ctx, 'AccessDenied', denied);
  }
  if (role.external_id != null && p.get('ExternalId') !== role.external_id) return sendStsError(ctx, 'AccessDenied', denied);
  const lifetime = role.lifetime_s ?? duration;
  const now = state.now();
  const expiresAt = now + lifetime * 1000;
  const keyId = randomId('ASIA', 16);
  const secret = randomBytes(30).toString('base64');
  const sessionToken = 'FwoGZXIvYXdzEFAKE' + randomBytes(96).toString('base64');
  state.tempCreds.set(keyId, { secret, sessionToken, expiresAt, roleArn, sessionName, sourceKey: identity.sourceKey,
    allow_models: role.allow_models, allow_list: role.allow_list, issuedAt: now });
  const roleName = roleArn.split('/').pop();
  const roleId = 'AROA' + createHash('sha256').update(roleArn).digest('hex').slice(0, 17).toUpperCase();
  const xml = `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <SourceIdentity></SourceIdentity>
    <AssumedRoleUser>
      <AssumedRoleId>${roleId}:${xmlEscape(sessionName)}</AssumedRoleId>
      <Arn>arn:aws:sts::${ACCOUNT_ID}:assumed-role/${xmlEscape(roleName)}/${xmlEscape(sessionName)}</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${keyId}</AccessKeyId>
      <SecretAccessKey>${xmlEscape(secret)}</SecretAccessKey>
      <SessionToken>${xmlEscape(sessionToken)}</SessionToken>
      <Expiration>${isoSeconds(expiresAt)}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>${ctx.requestId}</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>
`;
  const data = Buffer.from(xml, 'utf8');
  ctx.entry.status = 200;
  ctx.entry.issued_key = keyId;
  ctx.res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': data.length, 'x-amzn-RequestId': ctx.requestId });
  ctx.res.end(data);
}

// ---- control API (/__fake/*), unsigned JSON

function controlJson(res, status, obj) {
  const data = Buffer.from(JSON.stringify(obj), 'utf8');
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length });
  res.end(data);
}

const SCRIPT_OPS = new Set(['converse', 'converse-stream', 'list', 'get-model', 'list-profiles', 'assume-role']);

function control(state, req, res, rawPath, rawQuery, body) {
  let json = {};
  if (body.length) {
    try { json = JSON.parse(body.toString('utf8')); } catch { return controlJson(res, 400, { error: 'body is not JSON' }); }
  }
  const m = req.method;
  try {
    if (rawPath === '/__fake/health' && m === 'GET') return controlJson(res, 200, { ok: true });
    if (rawPath === '/__fake/script') {
      if (m === 'POST') {
        if (!json || typeof json !== 'object') return controlJson(res, 400, { error: 'expected an object' });
        if (json.match && json.match.op && !SCRIPT_OPS.has(json.match.op)) return controlJson(res, 400, { error: `unknown op ${json.match.op}` });
        return controlJson(res, 200, { id: state.addScript(json) });
      }
      if (m === 'GET') return controlJson(res, 200, state.scripts);
      if (m === 'DELETE') { state.clearScripts(); return controlJson(res, 200, { ok: true }); }
    }
    const sm = /^\/__fake\/script\/([^/]+)$/.exec(rawPath);
    if (sm && m === 'DELETE') return controlJson(res, state.removeScript(sm[1]) ? 200 : 404, { ok: true });
    if (rawPath === '/__fake/keys' && m === 'POST') {
      if (!json.id) return controlJson(res, 400, { error: 'id is required' });
      state.addKey(json);
      return controlJson(res, 200, { ok: true, id: json.id });
    }
    if (rawPath === '/__fake/roles' && m === 'POST') {
      if (!json.arn) return controlJson(res, 400, { error: 'arn is required' });
      state.addRole(json);
      return controlJson(res, 200, { ok: true, arn: json.arn });
    }
    if (rawPath === '/__fake/clock') {
      if (m === 'POST') {
        if (json.offset_s !== undefined) state.setClockOffset(json.offset_s);
        if (json.advance_s !== undefined) state.clockOffsetMs += Number(json.advance_s) * 1000;
      }
      if (m === 'POST' || m === 'GET') {
        return controlJson(res, 200, { offset_s: state.clockOffsetMs / 1000, now: new Date(state.now()).toISOString() });
      }
    }
    if (rawPath === '/__fake/requests') {
      if (m === 'GET') return controlJson(res, 200, state.requests);
      if (m === 'DELETE') { state.requests = []; return controlJson(res, 200, { ok: true }); }
    }
    if (rawPath === '/__fake/reset' && m === 'POST') {
      state.clearScripts(); state.requests = []; state.clockOffsetMs = 0;
      return controlJson(res, 200, { ok: true });
    }
    return controlJson(res, 404, { error: `no control endpoint ${m} ${rawPath}` });
  } catch (err) {
    return controlJson(res, 400, { error: err.message });
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points

/**
 * Start the fake in-process. config: the JSON config (keys, roles, regions, clock_skew_s, ...)
 * plus optional port (default 0 = free port) and host (default 127.0.0.1).
 * Returns {url, port, close(), state}.
 */
export async function startFakeAws(config = {}) {
  const state = new FakeAwsState(config);
  const server = http.createServer(makeHandler(state));
  server.keepAliveTimeout = 5000;
  const host = config.host || '127.0.0.1';
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port || 0, host, () => { server.off('error', reject); resolve(); });
  });
  const port = server.address().port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closed = false;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    state,
    server,
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Benchmark mode (--bench): a raw `net` server with every answer encoded once, for the
// benchmark harness (bench/README.md). It answers only what a benchmark sends: Converse,
// ConverseStream (messageStart, `chunks` contentBlockDelta events, contentBlockStop, messageStop,
// metadata; one HTTP chunk per event), the OpenAI-compatible POST /v1/chat/completions (JSON, or
// SSE with the same number of content chunks) for the baselines, GET /foundation-models (the
// region fixture), GET /inference-profiles (empty) and GET /__fake/health. SigV4 is checked with
// the built-in key unless `verify` is false (POST /__fake/verify/on|off switches it). `streamIntervalMs` pauses before each content event,
// for every model or only `pacedModel`. The C++ modelgate-bench-upstream serves the same bytes.

function benchHttp(status, reason, contentType, body, extra = '') {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return Buffer.concat([Buffer.from(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${contentType}\r\n` +
    `x-amzn-RequestId: 00000000-0000-4000-8000-000000000000\r\n${extra}Content-Length: ${b.length}\r\n\r\n`), b]);
}

function benchChunk(data) {
  const b = Buffer.isBuffer(data) ? data : Buffer.from(data);
  return Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
}

function benchStream(contentType, extra, first, paced, last) {
  const head = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\n` +
    `x-amzn-RequestId: 00000000-0000-4000-8000-000000000000\r\n${extra}Transfer-Encoding: chunked\r\n\r\n`);
  const end = Buffer.from('0\r\n\r\n');
  const lead = Buffer.concat([head, ...first.map(benchChunk)]);
  const pieces = paced.map(benchChunk);
  const tail = Buffer.concat([...last.map(benchChunk), end]);
  return { lead, pieces, tail, whole: Buffer.concat([lead, ...pieces, tail]) };
}

export function encodeBenchAnswers({ chunks = 50, fixturesDir = path.join(HERE, 'fixtures') } = {}) {
  const text = 'The quick brown fox jumps over the lazy dog and keeps running along the river bank until dusk.';
  const frame = (type, payload) => encodeMessage([
    { name: ':event-type', type: 'string', value: type },
    { name: ':content-type', type: 'string', value: 'application/json' },
    { name: ':message-type', type: 'string', value: 'event' },
  ], payload);
  const deltas = [];
  for (let i = 0; i < chunks; i++) {
    deltas.push(frame('contentBlockDelta', `{"contentBlockIndex":0,"delta":{"text":"tok${i} "},"p":"abcdefghij"}`));
  }
  const id = 'chatcmpl-bench0000000000000000000000';
  const prefix = `data: {"id":"${id}","object":"chat.completion.chunk","created":1700000000,"model":"bench","choices":[{"index":0,"delta":`;
  const sse = [];
  for (let i = 0; i < chunks; i++) sse.push(`${prefix}{"content":"tok${i} "},"finish_reason":null}]}\n\n`);
  return {
    converse: benchHttp(200, 'OK', 'application/json',
      `{"output":{"message":{"role":"assistant","content":[{"text":"${text}"}]}},"stopReason":"end_turn",` +
      '"usage":{"inputTokens":12,"outputTokens":18,"totalTokens":30},"metrics":{"latencyMs":1}}'),
    converseStream: benchStream('application/vnd.amazon.eventstream', '',
      [frame('messageStart', '{"role":"assistant","p":"abcdefgh"}')], deltas,
      [frame('contentBlockStop', '{"contentBlockIndex":0,"p":"abc"}'),
        frame('messageStop', '{"stopReason":"end_turn","p":"abcdef"}'),
        frame('metadata', `{"usage":{"inputTokens":12,"outputTokens":${chunks},"totalTokens":${12 + chunks}},"metrics":{"latencyMs":1},"p":"ab"}`)]),
    openai: benchHttp(200, 'OK', 'application/json',
      `{"id":"${id}","object":"chat.completion","created":1700000000,"model":"bench","choices":[{"index":0,` +
      `"message":{"role":"assistant","content":"${text}"},"finish_reason":"stop"}],` +
      '"usage":{"prompt_tokens":12,"completion_tokens":18,"total_tokens":30}}'),
    openaiStream: benchStream('text/event-stream; charset=utf-8', 'Cache-Control: no-cache\r\n',
      [`${prefix}{"role":"assistant","content":""},"finish_reason":null}]}\n\n`], sse,
      [`${prefix}{},"finish_reason":"stop"}]}\n\n`, 'data: [DONE]\n\n']),
    catalog: benchHttp(200, 'OK', 'application/json', fs.readFileSync(path.join(fixturesDir, 'us-east-1.json'))),
    profiles: benchHttp(200, 'OK', 'application/json', '{"inferenceProfileSummaries":[]}'),
    health: benchHttp(200, 'OK', 'application/json', '{"ok":true}'),
    notFound: benchHttp(404, 'Not Found', 'application/json', '{"message":"Unknown operation"}',
      'x-amzn-ErrorType: UnknownOperationException:http://internal.amazon.com/coral/com.amazon.coral.service/\r\n'),
    badRequest: benchHttp(400, 'Bad Request', 'application/json', '{"message":"malformed request"}', 'Connection: close\r\n'),
  };
}

function benchAuthFailure(message) {
  return benchHttp(403, 'Forbidden', 'application/json', JSON.stringify({ message }),
    'x-amzn-ErrorType: InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/\r\n');
}

/** Checks the SigV4 signature of a bench request with the built-in key; null when it is good. */
function benchVerify(method, rawPath, rawQuery, headerPairs, body) {
  const map = headerMap(headerPairs);
  const auth = parseAuthorization((map.get('authorization') || [])[0]);
  if (auth.error) return benchAuthFailure(auth.error);
  if (auth.accessKeyId !== DEFAULT_KEY_ID) return benchAuthFailure('The security token included in the request is invalid.');
  const v = verifySignature({ method, path: rawPath, query: rawQuery, headers: headerPairs, body }, auth, DEFAULT_SECRET);
  return v.ok ? null : benchAuthFailure(DEFAULT_MESSAGES.InvalidSignatureException);
}

export async function startBenchUpstream({ host = '127.0.0.1', port = 0, chunks = 50, streamIntervalMs = 0,
  pacedModel = '', verify = true } = {}) {
  const a = encodeBenchAnswers({ chunks });
  const paced = (model) => streamIntervalMs > 0 && (!pacedModel || model === pacedModel);
  const sendStream = async (socket, s, isPaced) => {
    if (!isPaced) { socket.write(s.whole); return; }
    socket.write(s.lead);
    for (const piece of s.pieces) {
      await sleep(streamIntervalMs);
      if (socket.destroyed) return;
      socket.write(piece);
    }
    socket.write(s.tail);
  };
  // Answers one complete request; returns a promise only for paced streams.
  const answer = (socket, method, target, headerPairs, body) => {
    const q = target.indexOf('?');
    const rawPath = q < 0 ? target : target.slice(0, q);
    const rawQuery = q < 0 ? '' : target.slice(q + 1);
    if (method === 'GET' && rawPath === '/__fake/health') return socket.write(a.health);
    if (method === 'POST' && (rawPath === '/__fake/verify/on' || rawPath === '/__fake/verify/off')) {
      verify = rawPath.endsWith('/on');
      return socket.write(benchHttp(200, 'OK', 'application/json', JSON.stringify({ verify })));
    }
    const bedrock = rawPath.startsWith('/model/') || rawPath.startsWith('/foundation-models') || rawPath.startsWith('/inference-profiles');
    if (bedrock && verify) {
      const failure = benchVerify(method, rawPath, rawQuery, headerPairs, body);
      if (failure) return socket.write(failure);
    }
    if (method === 'POST' && rawPath.startsWith('/model/')) {
      const m = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec(rawPath);
      if (!m) return socket.write(a.notFound);
      if (m[2] === 'converse') return socket.write(a.converse);
      return sendStream(socket, a.converseStream, paced(percentDecode(m[1])));
    }
    if (method === 'POST' && rawPath === '/v1/chat/completions') {
      const text = body.toString('latin1');
      if (!/"stream"\s*:\s*true/.test(text)) return socket.write(a.openai);
      const isPaced = streamIntervalMs > 0 && (!pacedModel || text.includes(`"${pacedModel}"`));
      return sendStream(socket, a.openaiStream, isPaced);
    }
    if (method === 'GET' && rawPath.startsWith('/foundation-models')) return socket.write(a.catalog);
    if (method === 'GET' && rawPath.startsWith('/inference-profiles')) return socket.write(a.profiles);
    return socket.write(a.notFound);
  };
  const server = net.createServer({ noDelay: true }, (socket) => {
    let buf = Buffer.alloc(0);
    let busy = false;  // a paced stream is being written: later requests wait in `buf`
    const pump = () => {
      while (!busy) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) { if (buf.length > 65536) socket.end(a.badRequest); return; }
        const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
        const [method, target] = lines[0].split(' ');
        const headerPairs = [];
        let length = 0;
        for (let i = 1; i < lines.length; i++) {
          const c = lines[i].indexOf(':');
          if (c <= 0) continue;
          const name = lines[i].slice(0, c);
          const value = lines[i].slice(c + 1).trim();
          headerPairs.push([name, value]);
          if (name.toLowerCase() === 'content-length') length = Number(value);
        }
        if (buf.length < end + 4 + length) return;
        const body = buf.subarray(end + 4, end + 4 + length);
        buf = buf.subarray(end + 4 + length);
        const pending = answer(socket, method, target, headerPairs, body);
        if (pending && typeof pending.then === 'function') {
          busy = true;
          pending.then(() => { busy = false; pump(); }, () => socket.destroy());
        }
      }
    };
    socket.on('data', (d) => { buf = buf.length ? Buffer.concat([buf, d]) : d; pump(); });
    socket.on('error', () => socket.destroy());
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  const actual = server.address().port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const sockets = new Set();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  return {
    url: `http://${urlHost}:${actual}`,
    port: actual,
    server,
    close() {
      return new Promise((resolve) => { server.close(() => resolve()); for (const s of sockets) s.destroy(); });
    },
  };
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const [name, inline] = eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const next = () => (inline !== undefined ? inline : argv[++i]);
    if (name === '--port') out.port = Number(next());
    else if (name === '--host') out.host = next();
    else if (name === '--listen') {
      // HOST:PORT, as modelgate's own --listen ("127.0.0.1:0", "[::1]:9000").
      const v = next();
      const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(v ?? '');
      if (!m) throw new Error(`--listen wants HOST:PORT, got ${v}`);
      out.host = m[1] ?? m[2];
      out.port = Number(m[3]);
    }
    else if (name === '--config') out.config = next();
    else if (name === '--bench') out.bench = true;
    else if (name === '--chunks') out.chunks = Number(next());
    else if (name === '--stream-interval-ms') out.streamIntervalMs = Number(next());
    else if (name === '--paced-model') out.pacedModel = next();
    else if (name === '--no-verify') out.verify = false;
    else if (name === '--verify') out.verify = true;
    else if (name === '--threads') next();  // the C++ bench upstream's option; Node has one thread
    else if (name === '--help' || name === '-h') out.help = true;
    else throw new Error(`unknown argument: ${a}`);
  }
  return out;
}

async function main() {
  let args;
  try { args = parseArgs(process.argv.slice(2)); } catch (err) {
    console.error(`fake-aws: ${err.message}`);
    process.exit(2);
  }
  if (args.help) {
    console.log('usage: modelgate-fake-aws [--listen HOST:PORT | --port N --host H] [--config FILE.json]\n' +
      '       modelgate-fake-aws --bench [--listen HOST:PORT] [--chunks N] [--stream-interval-ms MS] [--paced-model ID] [--no-verify]');
    return;
  }
  let config = {};
  if (args.config) config = JSON.parse(fs.readFileSync(args.config, 'utf8'));
  if (args.port !== undefined) config.port = args.port;
  if (args.host !== undefined) config.host = args.host;
  let fake = null;
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), 2000).unref();
    if (fake) fake.close().then(() => process.exit(0)); else process.exit(0);
  };
  // Install the handlers before announcing the port, so a signal sent right after the line is handled.
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  fake = args.bench
    ? await startBenchUpstream({ host: config.host, port: config.port, chunks: args.chunks,
      streamIntervalMs: args.streamIntervalMs, pacedModel: args.pacedModel, verify: args.verify })
    : await startFakeAws(config);
  process.stdout.write(`fake-aws listening on ${fake.url}\n`);
}

const isMain = (() => {
  try { return process.argv[1] && pathToFileURL(fs.realpathSync(process.argv[1])).href === pathToFileURL(fs.realpathSync(fileURLToPath(import.meta.url))).href; } catch { return false; }
})();
if (isMain) {
  main().catch((err) => { console.error(`fake-aws: ${err.stack || err}`); process.exit(1); });
}
