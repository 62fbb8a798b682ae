"""Rollout: feature flags that stage a pilot across tenants, and the adoption they are judged by."""
