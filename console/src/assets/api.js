// Calls to the gateway: the sign-in check and GraphQL, always with the signed-in token.
const TOKEN_KEY = "pilotgraph.console.token";

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
  sessionStorage.removeItem(TOKEN_KEY);
}

async function call(url, init) {
  try {
    return await fetch(url, init);
  } catch {
    throw new ApiError("NETWORK", "network");
  }
}

/** Check a token with the gateway; keep it for this tab when the console lets its role in. */
export async function signIn(candidate) {
  const response = await call("/admin/api/session", {
    headers: { Authorization: `Bearer ${candidate}` },
  });
  const body = await response.json();
  if (!response.ok) {
    const error = body.errors?.[0] ?? {};
    throw new ApiError(error.extensions?.code ?? "ERROR", error.message ?? response.statusText);
  }
  sessionStorage.setItem(TOKEN_KEY, candidate);
  return body;
}

/** Run a GraphQL document; throws ApiError with the first error's code and message. */
export async function gql(query, variables = {}) {
  const response = await call("/graphql", {
    method: "POST",
    headers: { Authorization: `Bearer ${token()}`, "Content-Type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError("HTTP_" + response.status, response.statusText);
  }
  if (body.errors?.length) {
    const error = body.errors[0];
    let code = error.extensions?.code ?? "ERROR";
    // a field the schema does not (yet) have: the view says so instead of breaking
    if (/Cannot query field|Unknown argument|Unknown type/.test(error.message)) code = "UNAVAILABLE";
    throw new ApiError(code, error.message);
  }
  return body.data;
}
