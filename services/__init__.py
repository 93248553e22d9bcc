"""Waspada's three services (ingest, triage, notify) and the small package they share (common)."""
