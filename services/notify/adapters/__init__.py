"""Notify's adapters, one module per thing outside the process: Kafka, Valkey, the webhook client, SMTP, Prometheus."""
