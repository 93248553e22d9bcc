"""Office tokens: only their SHA-256 is in the directory; a presented token is hashed and looked up."""

import hashlib

from services.notify.core.directory import Directory, Office


def token_index(directory: Directory) -> dict[str, Office]:
    """SHA-256 of an office token → office (raw tokens are never stored)."""
    return {o.token_sha256: o for o in directory.offices}


def office_for_token(index: dict[str, Office], token: str) -> Office | None:
    return index.get(hashlib.sha256(token.strip().encode()).hexdigest()) if token.strip() else None
