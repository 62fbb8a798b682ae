"""The GraphQL schema: strawberry types and thin resolvers over the domain services."""
