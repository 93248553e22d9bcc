"""Triage: the faust-streaming app that scores, deduplicates and groups events into incidents."""
