"""Ingest's flows: the core's decisions carried out through the adapters (taking events in, readiness)."""
