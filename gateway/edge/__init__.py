"""The gateway's edge: GraphQL over HTTP, limits, persisted operations, rate limits, CORS."""
