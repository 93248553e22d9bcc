"""The system of record (CONTRACT §14): escalations, deliveries, officer actions and daily counts in PostgreSQL.

Valkey holds what is hot and may be lost (idempotency, timers, the notification log's fast path);
PostgreSQL holds what may be evidence years later (UU TPPO): who was told, who acknowledged, how a
case ended. Table and column names are meant to be queried by an analyst without the code
(docs/records.md lists them).
"""
