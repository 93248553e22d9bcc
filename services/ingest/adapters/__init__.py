"""Ingest's adapters, one module per thing outside the process: Kafka, Valkey, the HTTP server, Prometheus."""
