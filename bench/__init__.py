"""Waspada's proof under load: ``make bench`` figures, the soak, and the stack helpers the fault drills share.

Everything here talks to the services through their public surfaces only (HTTP APIs, topics,
processes), so the same harness measures the walking skeleton and every later rewrite.
"""
