"""Code the three services share: settings base, Kafka plumbing, logging, pseudonyms.

Kept small on purpose: anything service-specific lives in that service's package.
"""
