// Compose subgraph SDLs into a Federation 2 supergraph with @apollo/composition.
//
//   node compose.mjs --out supergraph.graphql name=url=path/to/schema.graphql ...
//
// Prints {"errors": [...], "hints": [...]} as JSON on stdout. Exit status: 0 clean,
// 1 composition errors, 2 hints only (callers that want a clean composition treat 2 as failure).
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { parse } from "graphql";
import { composeServices } from "@apollo/composition";

const args = process.argv.slice(2);
let out = null;
const services = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--out") {
    out = args[++i];
    continue;
  }
  const [name, url, path] = args[i].split("=");
  if (!name || !url || !path) throw new Error(`expected name=url=path, got ${args[i]}`);
  services.push({ name, url, typeDefs: parse(readFileSync(path, "utf8")) });
}

const result = composeServices(services);
const errors = (result.errors ?? []).map((e) => ({ code: e.extensions?.code, message: e.message }));
const hints = (result.hints ?? []).map((h) => ({ code: h.definition.code, message: h.message }));
if (errors.length === 0 && out) {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, result.supergraphSdl);
}
process.stdout.write(JSON.stringify({ errors, hints }, null, 2) + "\n");
process.exit(errors.length ? 1 : hints.length ? 2 : 0);
