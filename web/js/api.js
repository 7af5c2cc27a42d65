// The HTTP API of `interlock serve` (docs/api/openapi.yaml), with the
// bearer token from sessionStorage. Every error becomes an ApiError with
// the server's status, code and message. A 401 also signs the user out:
// listeners of 'interlock:unauthorized' on window show the sign-in page.

const TOKEN_KEY = 'interlock.token';

/** An error answer (or a failure to reach the server: status 0). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

async function errorOf(response) {
  let code = `http_${response.status}`;
  let text = `The server answered ${response.status} ${response.statusText}`.trim();
  try {
    const body = await response.json();
    if (body && body.error && typeof body.error.message === 'string') {
      code = body.error.code || code;
      text = body.error.message;
    }
  } catch {
    // Not JSON: keep the status line.
  }
  return new ApiError(response.status, code, text);
}

/**
 * Calls the API and returns the parsed JSON answer.
 * options: {method, body (serialised as JSON), token (instead of the stored
 * one), signal, quiet401 (do not sign out on 401)}.
 * Throws ApiError.
 */
export async function request(path, options = {}) {
  const token = options.token ?? getToken();
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body,
      signal: options.signal,
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', `The server could not be reached (${e.message}).`);
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && !options.quiet401) {
      clearToken();
      window.dispatchEvent(new CustomEvent('interlock:unauthorized', { detail: error.message }));
    }
    throw error;
  }
  try {
    return await response.json();
  } catch {
    throw new ApiError(response.status, 'bad_json', 'The server sent an answer that is not JSON.');
  }
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

const enc = encodeURIComponent;

export const api = {
  me: (opts) => request('/v1/me', opts),
  health: (opts) => request('/healthz', opts),
  stop: (opts) => request('/api/emergency-stop', opts),
  stopAction: (body) => request('/api/emergency-stop', { method: 'POST', body }),
  approvals: (state, opts) => request(`/v1/approvals${query({ state })}`, opts),
  approval: (id, opts) => request(`/v1/approvals/${enc(id)}`, opts),
  act: (id, action, body) => request(`/v1/approvals/${enc(id)}/${enc(action)}`, { method: 'POST', body }),
  auditEntries: (params, opts) => request(`/v1/audit/entries${query(params)}`, opts),
  proof: (index, size, opts) => request(`/v1/audit/proof${query({ index, size })}`, opts),
  checkpoint: (opts) => request('/v1/audit/checkpoint', opts),
  simulate: (body, at) => request(`/v1/decisions/simulate${at ? `?at=${encodeURIComponent(at)}` : ''}`, { method: 'POST', body }),
  stats: (hours, opts) => request(`/v1/stats${query({ hours })}`, opts),
  rollouts: (state, opts) => request(`/v1/rollouts${query({ state })}`, opts),
  rollout: (id, opts) => request(`/v1/rollouts/${enc(id)}`, opts),
  steer: (id, action, body) => request(`/v1/rollouts/${enc(id)}/${enc(action)}`, { method: 'POST', body }),
  incidents: (opts) => request('/v1/incidents', opts),
  freezeWindows: (opts) => request('/v1/freeze-windows', opts),
  compliance: (framework, opts) => request(`/v1/compliance${query({ framework })}`, opts),
  reviewIncident: (id, body) => request(`/v1/incidents/${encodeURIComponent(id)}/review`, { method: 'POST', body }),
};
