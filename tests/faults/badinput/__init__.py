"""The bad-input generator: malformed requests built from the app's routes and the schema."""
