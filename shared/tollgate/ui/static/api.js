// The API client: same-origin by default, bearer key from sessionStorage, one error type.
const KEY_NAME = "tollgate.adminKey";
let baseUrl = "";
let onUnauthorized = () => {};

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.type = error.type || "unknown_error";
    this.code = error.code || "unknown";
    this.requestId = error.request_id || null;
    this.detail = error;
  }

  get notAvailable() {
    return this.status === 404 && this.code === "unknown_route";
  }
}

export async function loadConfig() {
  try {
    const response = await fetch("config.json", { cache: "no-store", credentials: "omit" });
    if (response.ok) {
      const config = await response.json();
      baseUrl = String(config.api_url || "").replace(/\/+$/, "");
    }
  } catch {
    baseUrl = "";
  }
}

export const session = {
  get: () => sessionStorage.getItem(KEY_NAME),
  set: (key) => sessionStorage.setItem(KEY_NAME, key),
  clear: () => sessionStorage.removeItem(KEY_NAME),
};

export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

function buildUrl(path, query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") params.append(name, String(value));
  }
  const qs = params.toString();
  return `${baseUrl}${path}${qs ? `?${qs}` : ""}`;
}

export async function request(method, path, { query, body, key, raw = false } = {}) {
  const headers = { Accept: raw ? "*/*" : "application/json" };
  const token = key ?? session.get();
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(buildUrl(path, query), init);
  } catch {
    throw new ApiError(0, { type: "network_error", code: "network_error", message: "The gateway could not be reached." });
  }
  if (raw && response.ok) return response;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, (data && data.error) || { message: `HTTP ${response.status}` });
    if (response.status === 401 && key === undefined) onUnauthorized(error);
    throw error;
  }
  return data;
}

export const api = {
  get: (path, query) => request("GET", path, { query }),
  post: (path, body) => request("POST", path, { body: body ?? {} }),
  put: (path, body) => request("PUT", path, { body }),
  patch: (path, body) => request("PATCH", path, { body }),
  del: (path) => request("DELETE", path),
  raw: (path, query) => request("GET", path, { query, raw: true }),
};

// Every page of a list, following next_cursor (bounded, so a huge table cannot hang the page).
export async function listAll(path, query = {}, maxPages = 20) {
  const rows = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page += 1) {
    const result = await api.get(path, { limit: 500, ...query, cursor });
    rows.push(...(result.data || []));
    cursor = result.next_cursor;
    if (!cursor) return { rows, truncated: false };
  }
  return { rows, truncated: true };
}

export function groupsOf(summary) {
  if (Array.isArray(summary)) return summary;
  return (summary && (summary.data || summary.groups)) || [];
}
