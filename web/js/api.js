// The console's only way to the gateway: the admin API (/admin/v1/...) and, for the
// playground, the data plane (/v1/...). Authentication is the HttpOnly session cookie the
// browser sends by itself; every state-changing request carries the CSRF header the server
// requires for cookie-authenticated calls.

const CSRF_HEADER = 'X-Modelgate-Csrf';

// An error answer of the API: {"error": {"type", "code", "message", "param"}}.
export class ApiError extends Error {
  constructor(status, body, fallbackText) {
    const e = (body && body.error) || {};
    super(e.message || fallbackText || `The gateway answered ${status}.`);
    this.name = 'ApiError';
    this.status = status;
    this.code = e.code || null;
    this.type = e.type || null;
    this.param = e.param || null;
    this.body = body;
  }
}

let unauthorizedHandler = () => {};

// Called with the ApiError whenever a call answers 401 (the session ended): the app shows the
// sign-in screen.
export function onUnauthorized(fn) { unauthorizedHandler = fn; }

function headersFor(method, hasBody, accept = 'application/json') {
  const h = { Accept: accept };
  if (method !== 'GET' && method !== 'HEAD') h[CSRF_HEADER] = '1';
  if (hasBody) h['Content-Type'] = 'application/json';
  return h;
}

async function send(path, init) {
  try {
    return await fetch(path, { credentials: 'same-origin', cache: 'no-store', ...init });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, { error: { code: 'network', message: 'The gateway could not be reached. Check that modelgate is running and try again.' } });
  }
}

async function errorOf(res) {
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  return new ApiError(res.status, body, text && !body ? text.slice(0, 200) : undefined);
}

// Calls the API and returns the parsed JSON body (null for 204). Throws ApiError.
// Options: signal (AbortSignal), quiet401 (a 401 is the caller's business, e.g. sign-in).
export async function api(method, path, body, { signal, quiet401 = false } = {}) {
  const res = await send(path, {
    method,
    headers: headersFor(method, body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401 && !quiet401) unauthorizedHandler(err);
    throw err;
  }
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

// Percent-encodes one path segment (model ids contain ':' '.' '/').
export const seg = (s) => encodeURIComponent(s);

// Streams a chat completion (client-api §5.5): yields each chunk object; returns at
// `data: [DONE]` or the end of the body; throws ApiError for an error status or an
// `event: error` frame.
export async function* streamChat(request, { signal } = {}) {
  const res = await send('/v1/chat/completions', {
    method: 'POST',
    headers: headersFor('POST', true, 'text/event-stream'),
    body: JSON.stringify({ ...request, stream: true }),
    signal,
  });
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401) unauthorizedHandler(err);
    throw err;
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, '');
        let event = 'message';
        const data = [];
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith(':')) continue;  // comment / keep-alive
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length === 0) continue;
        const text = data.join('\n');
        if (text === '[DONE]') return;
        let payload;
        try { payload = JSON.parse(text); } catch { continue; }
        if (event === 'error') throw new ApiError(502, payload);
        yield payload;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
