// OpenID Connect login, authorization code + PKCE (S256): the browser makes the verifier,
// the issuer authenticates, and the gateway redeems the code (POST /admin/api/oidc/token) and,
// before the access token expires, the refresh token (POST /admin/api/oidc/refresh, api.js).
const PENDING = "pilotgraph.console.oidc";

function randomString(bytes = 32) {
  const data = crypto.getRandomValues(new Uint8Array(bytes));
  return base64url(data);
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

function redirectUri() {
  return `${location.origin}/admin/`;
}

/** The issuer's login offer from the gateway, or null when none is configured. */
export async function oidcConfig() {
  try {
    const response = await fetch("/admin/api/config");
    return response.ok ? (await response.json()).oidc : null;
  } catch {
    return null;
  }
}

/** Go to the issuer's login page with a fresh PKCE challenge and state. */
export async function startLogin(oidc) {
  const verifier = randomString(48);
  const state = randomString(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const url = new URL(oidc.authorizationEndpoint);
  url.search = new URLSearchParams({
    response_type: "code", client_id: oidc.clientId, redirect_uri: redirectUri(), scope: oidc.scope,
    state, code_challenge: await challengeOf(verifier), code_challenge_method: "S256",
  }).toString();
  location.assign(url.toString());
}

/** Back from the issuer: the grant {token, refreshToken, expiresIn} for the code in the URL,
 * or null if none is there. */
export async function finishLogin() {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  if (!code) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, "", "/admin/");  // the shell then opens the role's first view
  if (!pending || pending.state !== params.get("state")) throw new Error("state");
  const response = await fetch("/admin/api/oidc/token", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code, codeVerifier: pending.verifier, redirectUri: redirectUri() }),
  });
  if (!response.ok) throw new Error("token");
  return response.json();
}
