"""Notify's flows: the core's decisions carried out through the adapters (routing, delivery, officers' actions)."""
