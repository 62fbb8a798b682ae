"""The PilotGraph gateway: HTTP edge, auth, tenancy, GraphQL endpoint, CLI."""
