"""PaymentIntent client secrets: what the shop keeps of them, and how it checks one."""

import hashlib

from django.utils.crypto import constant_time_compare


def client_secret_digest(client_secret: str) -> str:
    """SHA-256 (hex) of a client secret. Secrets are long and random: no salt needed."""
    return hashlib.sha256(client_secret.encode()).hexdigest()


def client_secret_matches(*, client_secret: str, digest: str) -> bool:
    """Whether `client_secret` is the one `digest` was made from (constant time)."""
    return bool(client_secret and digest) and constant_time_compare(
        client_secret_digest(client_secret), digest
    )
