// Calls to the gateway: the sign-in check and GraphQL, always with the signed-in token.
// GraphQL operations are sent by name → sha256 hash (persisted-query form, as the gateway runs
// them in trusted-documents mode); their documents live in clients/trusted-documents/console/
// and the build writes the hashes into operations.js. No document text leaves the console.
import { OPERATIONS } from "./operations.js";

const TOKEN_KEY = "pilotgraph.console.token";
const REFRESH_KEY = "pilotgraph.console.refresh";
let renewal = null;  // the timer that refreshes the access token before it expires
let onSessionEnd = () => {};

export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function forget() {
  clearTimeout(renewal);
  renewal = null;
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(REFRESH_KEY);
}

export function hasRefresh() {
  return sessionStorage.getItem(REFRESH_KEY) !== null;
}

// After the session ended, calls still in flight never settle: the sign-in page replaces the
// view, and no view may write an error over it.
const SETTLES_NEVER = () => new Promise(() => {});

/** What to do when the session cannot be refreshed any more (the shell shows the sign-in page). */
export function whenSessionEnds(handler) {
  onSessionEnd = handler;
}

async function call(url, init) {
  try {
    return await fetch(url, init);
  } catch {
    throw new ApiError("NETWORK", "network");
  }
}

async function errorOf(response) {
  const body = await response.json().catch(() => ({}));
  const error = body.errors?.[0] ?? {};
  return new ApiError(error.extensions?.code ?? "HTTP_" + response.status, error.message ?? response.statusText);
}

/** Check a token with the gateway; keep it for this tab when the console lets its role in. */
export async function signIn(candidate) {
  const response = await call("/admin/api/session", {
    headers: { Authorization: `Bearer ${candidate}` },
  });
  if (!response.ok) throw await errorOf(response);
  const body = await response.json();
  sessionStorage.setItem(TOKEN_KEY, candidate);
  return body;
}

/** An OIDC grant {token, refreshToken, expiresIn}: refresh the token before it expires. */
export function keepFresh(grant) {
  clearTimeout(renewal);
  renewal = null;
  if (!grant.refreshToken) return;
  sessionStorage.setItem(REFRESH_KEY, grant.refreshToken);
  const seconds = grant.expiresIn > 0 ? grant.expiresIn - Math.min(60, grant.expiresIn / 3) : 240;
  renewal = setTimeout(() => refresh().catch(() => {}), Math.max(1, seconds) * 1000);
}

/** Redeem the refresh token for a new access token; on refusal the session ends. */
export async function refresh() {
  const refreshToken = sessionStorage.getItem(REFRESH_KEY);
  if (!refreshToken) throw new ApiError("UNAUTHENTICATED", "no refresh token");
  const response = await call("/admin/api/oidc/refresh", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refreshToken }),
  });
  if (!response.ok) {
    const error = await errorOf(response);
    forget();
    onSessionEnd(error);
    throw error;
  }
  const grant = await response.json();
  sessionStorage.setItem(TOKEN_KEY, grant.token);
  keepFresh(grant);
  return grant.token;
}

function post(name, variables) {
  const sha256Hash = OPERATIONS[name];
  if (!sha256Hash) throw new ApiError("UNKNOWN_OPERATION", `no operation named ${name}`);
  return call("/graphql", {
    method: "POST",
    headers: { Authorization: `Bearer ${token()}`, "Content-Type": "application/json" },
    body: JSON.stringify({ operationName: name, variables, extensions: { persistedQuery: { version: 1, sha256Hash } } }),
  });
}

/** Run the console's operation `name`; throws ApiError with the first error's code and message. */
export async function gql(name, variables = {}) {
  if (!token()) return SETTLES_NEVER();
  let response = await post(name, variables);
  if (response.status === 401 && hasRefresh()) {
    // the token expired before its renewal ran (a sleeping laptop): renew, then once more
    if (!(await refresh().then(() => true, () => false))) return SETTLES_NEVER();
    response = await post(name, variables);
  }
  if (response.status === 401) {
    // the pasted token expired mid-session (or was revoked): back to sign-in, saying why
    forget();
    onSessionEnd(new ApiError("EXPIRED", "the access token is no longer accepted"));
    return SETTLES_NEVER();
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError("HTTP_" + response.status, response.statusText);
  }
  if (body.errors?.length) {
    const error = body.errors[0];
    throw new ApiError(error.extensions?.code ?? "ERROR", error.message);
  }
  return body.data;
}

/** The token's display name (`name`, else `preferred_username`), else `fallback`; for showing only. */
export function displayName(jwt, fallback) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    const name = claims.name ?? claims.preferred_username;
    return typeof name === "string" && name.trim() ? name.trim() : fallback;
  } catch {
    return fallback;
  }
}

/** Fetch the gateway's CSV at each of `paths` with the token, joined under one header, and save it as `filename`. */
export async function download(paths, filename) {
  const parts = [];
  for (const path of paths) {
    const response = await call(path, { headers: { Authorization: `Bearer ${token()}` } });
    if (!response.ok) throw await errorOf(response);
    const text = await response.text();
    parts.push(parts.length ? text.slice(text.indexOf("\n") + 1) : text);
  }
  const url = URL.createObjectURL(new Blob(parts, { type: "text/csv" }));
  const link = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
