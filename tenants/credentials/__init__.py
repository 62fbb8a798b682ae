"""Service credentials: API keys other backends of a province use to evaluate flags over OFREP."""
