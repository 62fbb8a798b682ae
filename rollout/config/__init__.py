"""Configuration as code: a province's flags, rules, overrides and plans as YAML, and back."""
