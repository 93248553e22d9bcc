"""Ingest's pure core: the channel registry, the intake's decisions and the error vocabulary; no I/O.

Nothing here imports an adapter, FastAPI, aiokafka or redis (import-linter holds it, ``make lint``).
"""
