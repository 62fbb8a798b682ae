// PostGraphile v5 (Amber preset, grafserv on node:http) on the bench's database, as the app role.
//
// Started by bench/vs_postgraphile.py from its cache folder (where `npm install` put postgraphile
// and pg), with:
//   DATABASE_URL   postgres://<app role>@127.0.0.1:5432/<database>
//   JWT_SECRET     the HS256 key the gateway verifies with; JWT_ISSUER, JWT_AUDIENCE
//   HOST, PORT     where to listen; POOL_SIZE  most connections to PostgreSQL
//
// Every request must carry the same bearer token the gateway accepts: HS256 signature, issuer,
// audience, expiry and not-before are checked here; `pgSettings` then sets, for the request's
// transaction only, `app.tenant_id` (what row-level security reads, as the gateway sets it) and
// `app.member_id` (read by the bench's invoker-rights "me" functions). A bad token is a GraphQL
// error with code UNAUTHENTICATED, never an anonymous query.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { postgraphile } from "postgraphile";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const SECRET = Buffer.from(env("JWT_SECRET"), "utf8");
const ISSUER = env("JWT_ISSUER");
const AUDIENCE = env("JWT_AUDIENCE");
const LEEWAY_S = 30;

class Unauthenticated extends Error {
  constructor(message) {
    super(message);
    this.extensions = { code: "UNAUTHENTICATED" };
  }
}

const base64url = (text) => Buffer.from(text, "base64url");

function parse(part) {
  try {
    return JSON.parse(base64url(part));
  } catch {
    throw new Unauthenticated("The token is malformed.");
  }
}

function verify(header) {
  const match = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(header ?? "");
  if (!match) throw new Unauthenticated("A bearer token is required.");
  const [, head, body, signature] = match;
  if (parse(head).alg !== "HS256") throw new Unauthenticated("Not an HS256 token.");
  const expected = createHmac("sha256", SECRET).update(`${head}.${body}`).digest();
  const given = base64url(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new Unauthenticated("The token's signature is invalid.");
  }
  const claims = parse(body);
  const now = Date.now() / 1000;
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== ISSUER || !audiences.includes(AUDIENCE)) {
    throw new Unauthenticated("The token's issuer or audience is not this server's.");
  }
  if (typeof claims.exp !== "number" || claims.exp + LEEWAY_S < now) {
    throw new Unauthenticated("The token has expired.");
  }
  if (typeof claims.nbf === "number" && claims.nbf - LEEWAY_S > now) {
    throw new Unauthenticated("The token is not valid yet.");
  }
  if (typeof claims.tenant !== "string" || !claims.tenant) {
    throw new Unauthenticated("The token names no tenant.");
  }
  return claims;
}

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: env("DATABASE_URL"),
      schemas: ["public"],
      poolConfig: { max: Number(env("POOL_SIZE")) },
    }),
  ],
  grafast: {
    explain: false,
    context(requestContext) {
      const claims = verify(requestContext.node?.req?.headers?.authorization);
      const member = claims.member_id ?? claims.sub;
      return {
        pgSettings: {
          "app.tenant_id": claims.tenant,
          "app.member_id": typeof member === "string" ? member : "",
        },
      };
    },
  },
  grafserv: { graphqlPath: "/graphql", graphiql: false, watch: false, maskError: (e) => e },
};

const pgl = postgraphile(preset);
await pgl.getSchemaResult(); // introspect before listening: ready means ready to answer
const handle = pgl.createServ(grafserv).createHandler();
const server = createServer((req, res) => {
  if (req.url === "/readyz") {
    res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ready"}');
  } else {
    handle(req, res);
  }
});
server.keepAliveTimeout = 65_000;
server.listen(Number(env("PORT")), env("HOST"), () => {
  console.log(`postgraphile listening on ${env("HOST")}:${env("PORT")}`);
});
const stop = () => {
  server.close(() => pgl.release().then(() => process.exit(0)));
  server.closeAllConnections();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
