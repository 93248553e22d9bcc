"""The public demo credentials of config/channels.yaml and config/directory.yaml.

They exist so that ``make run`` can print a working curl line; production registries hold only
SHA-256 hashes of tokens nobody has written down.
"""

CHANNEL_TOKENS = {
    "demo-village": "demo-village-token",
    "demo-checkpoint": "demo-checkpoint-token",
    "demo-bp3mi-banten": "demo-bp3mi-banten-token",
}


def office_token(office_id: str) -> str:
    """Demo officer token of an office in the shipped directory."""
    return f"demo-{office_id}-token"
