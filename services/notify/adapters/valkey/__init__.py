"""Notify's Valkey keyspaces, one module each (the key names themselves: ``services.common.valkey_keys``)."""
