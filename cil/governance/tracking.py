"""The tracked link of a convocation e-mail: a per-recipient token, unguessable without the
server's secret key, derived (HMAC) from the convocation's public id. Nothing secret is
stored: the same token can be written again in a reminder, and checked in constant time."""

from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "cil.governance.convocation-link"


def token_for(convocation_public_id) -> str:
    return salted_hmac(SALT, str(convocation_public_id), algorithm="sha256").hexdigest()[:40]


def token_matches(convocation_public_id, token: str) -> bool:
    return constant_time_compare(token_for(convocation_public_id), token or "")
