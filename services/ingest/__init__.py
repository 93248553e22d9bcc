"""Ingest: the HTTP front door (CONTRACT §3). Validates, pseudonymises and publishes events."""
