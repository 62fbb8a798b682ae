"""Tenants: the province hierarchy, the tenant registry and the handbook data each tenant owns."""
