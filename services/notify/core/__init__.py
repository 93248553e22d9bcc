"""Notify's pure core: the directory, the chain, what a notice says, the retry schedule, signatures; no I/O.

Nothing here imports an adapter, FastAPI, aiohttp, aiokafka or redis (import-linter holds it, ``make lint``).
"""
