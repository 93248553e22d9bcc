"""Ingest's HTTP API: thin routes over ``flows.intake``, the body reader, the problem answers, the OpenAPI text."""
