// Hive Gateway in front of PilotGraph and member development.
//
// The router forwards the caller's Authorization (and X-Tenant) to every subgraph: the subgraphs
// verify the token and enforce tenancy themselves. It adds the router's own credential,
// X-Router-Token, from PILOTGRAPH_ROUTER_TOKEN, so only it reaches _service/_entities; a value a
// client sends is never forwarded.
import { defineConfig } from "@graphql-hive/gateway";

const routerToken = process.env.PILOTGRAPH_ROUTER_TOKEN;

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
  // The composed supergraph is a file; it is re-read when make run-federated recomposes.
  pollingInterval: 10_000,
});
