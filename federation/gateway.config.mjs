// Hive Gateway in front of PilotGraph and member development.
//
// The router forwards the caller's Authorization (and X-Tenant) to every subgraph: the subgraphs
// verify the token and enforce tenancy themselves. It adds the router's own credential,
// X-Router-Token, from PILOTGRAPH_ROUTER_TOKEN, so only it reaches _service/_entities; a value a
// client sends is never forwarded.
//
// Trusted documents: with ROUTER_TRUSTED_DOCUMENTS set to an Apollo persisted-query manifest
// (clients/trusted-documents-federated/manifest.json), clients send
// extensions.persistedQuery.sha256Hash and only the manifest's documents run; any other document
// answers OPERATION_NOT_ALLOWED. PilotGraph, in trusted mode, then exempts the router's own
// subgraph queries (it proved itself with X-Router-Token). See docs/TRUSTED_DOCUMENTS.md.
import { readFileSync } from "node:fs";
import { defineConfig } from "@graphql-hive/gateway";

const routerToken = process.env.PILOTGRAPH_ROUTER_TOKEN;
const manifestPath = process.env.ROUTER_TRUSTED_DOCUMENTS;

// hash → document; a hash that does not match its body stops the router at start-up.
function loadManifest(path) {
  const manifest = JSON.parse(readFileSync(path, "utf8"));
  if (manifest.format !== "apollo-persisted-query-manifest" || !Array.isArray(manifest.operations)) {
    throw new Error(`${path}: not an Apollo persisted-query manifest`);
  }
  return new Map(manifest.operations.map((op) => [op.id, op.body]));
}

function trustedDocuments(path) {
  const documents = loadManifest(path);
  return {
    getPersistedOperation: (key) => documents.get(key) ?? null,
    allowArbitraryDocuments: false,
    customErrors: {
      notFound: { message: "PersistedQueryNotFound", extensions: { code: "PERSISTED_QUERY_NOT_FOUND" } },
      persistedQueryOnly: {
        message: "Only operations from the trusted-documents manifest may run.",
        extensions: { code: "OPERATION_NOT_ALLOWED" },
      },
      keyNotFound: {
        message: "persistedQuery must be {version: 1, sha256Hash}.",
        extensions: { code: "BAD_REQUEST" },
      },
    },
  };
}

export const gatewayConfig = defineConfig({
  supergraph: process.env.SUPERGRAPH_PATH ?? "../var/federation/supergraph.graphql",
  propagateHeaders: {
    fromClientToSubgraphs({ request }) {
      return {
        authorization: request.headers.get("authorization"),
        "x-tenant": request.headers.get("x-tenant"),
        "x-router-token": routerToken,
      };
    },
  },
  ...(manifestPath ? { persistedDocuments: trustedDocuments(manifestPath) } : {}),
  // The composed supergraph is a file; it is re-read when make run-federated recomposes.
  pollingInterval: 10_000,
});
