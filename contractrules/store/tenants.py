"""Tenants, their API keys, and idempotency records (the HTTP service's, in the store).

- A **tenant** exists once it has a key; its contracts are the rows whose ``tenant``
  column holds its name (``default`` for everything stored without one).
- An **API key** is ``crk_<key id>_<secret>``. The store keeps the key id, a random
  salt and ``scrypt(secret, salt)`` (hashlib.scrypt, n=2**14, r=8, p=1), never the key:
  a stolen database does not give working keys. The key is shown once, when issued.
  Checking a key reads its row by key id (revoked keys fail at once), then scrypt; a
  key that verified once is remembered by its SHA-256 in this process, so a request
  costs one indexed read, not an scrypt.
- **Idempotency records** (``Idempotency-Key`` of ``POST .../events``): per tenant and
  key, a hash of the request and the response that was sent; written after the batch
  commits. A retry with the same key and request gets the same response again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from contractrules.errors import ConflictError, InputError, Issue
from contractrules.store.base import Store
from contractrules.store.values import tenant_name

PREFIX = "crk_"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_VERIFIED: dict[str, tuple[str, str]] = {}  # sha256(key) -> (key_id, tenant), this process
_LOCK_ID = "cr_keys/"  # the advisory lock the key writes take (PostgreSQL)


@dataclass(frozen=True)
class KeyInfo:
    """One API key as ``tenant list`` shows it (never the key itself)."""

    tenant: str
    key_id: str
    created_at: datetime
    revoked_at: datetime | None


def _hash(secret: str, salt: str) -> str:
    return hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), maxmem=64 * 1024 * 1024, **_SCRYPT).hex()


def _split(key: str) -> tuple[str, str] | None:
    if not isinstance(key, str) or not key.startswith(PREFIX) or len(key) > 200:
        return None
    key_id, sep, secret = key[len(PREFIX) :].partition("_")
    if not sep or len(key_id) != 16 or not secret:
        return None
    return key_id, secret


def _tenants(store: Store, tx) -> set[str]:
    return {row[0] for row in tx.all("SELECT DISTINCT tenant FROM cr_keys")}


def _issue(store: Store, tx, name: str) -> str:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    tx.many(
        "INSERT INTO cr_keys (key_id, tenant, salt, key_hash, created_at) VALUES (?, ?, ?, ?, ?)",
        [(key_id, name, salt, _hash(secret, salt), store._to_ts(store._now(tx)))],
    )
    return f"{PREFIX}{key_id}_{secret}"


def create_tenant(store: Store, name: str) -> str:
    """Create tenant ``name`` with its first API key; return the key (shown once)."""
    name = tenant_name(name)
    with store._write(_LOCK_ID) as tx:
        if name in _tenants(store, tx):
            raise ConflictError(
                [
                    Issue(
                        "<tenant>",
                        None,
                        "tenant",
                        f"tenant {name!r} exists already: issue another key with `contractrules tenant key {name}`",
                    )
                ]
            )
        return _issue(store, tx, name)


def issue_key(store: Store, name: str) -> str:
    """Another API key for an existing tenant (e.g. to rotate keys); return it."""
    name = tenant_name(name)
    with store._write(_LOCK_ID) as tx:
        if name not in _tenants(store, tx):
            raise InputError([Issue("<tenant>", None, "tenant", f"no tenant {name!r}")])
        return _issue(store, tx, name)


def list_keys(store: Store) -> list[KeyInfo]:
    """Every API key (active and revoked), by tenant then creation."""
    with store._read() as tx:
        rows = tx.all("SELECT tenant, key_id, created_at, revoked_at FROM cr_keys ORDER BY tenant, created_at, key_id")
    return [KeyInfo(t, k, store._from_ts(c), store._from_ts(r) if r is not None else None) for t, k, c, r in rows]


def revoke(store: Store, name: str, key_id: str | None = None) -> int:
    """Revoke every active key of a tenant (or one of them); return how many were revoked."""
    name = tenant_name(name)
    with store._write(_LOCK_ID) as tx:
        if name not in _tenants(store, tx):
            raise InputError([Issue("<tenant>", None, "tenant", f"no tenant {name!r}")])
        sql = "SELECT key_id FROM cr_keys WHERE tenant = ? AND revoked_at IS NULL"
        params: tuple = (name,)
        if key_id is not None:
            sql += " AND key_id = ?"
            params = (name, key_id)
        active = [row[0] for row in tx.all(sql, params)]
        if key_id is not None and not active:
            raise InputError([Issue("<tenant>", None, "key", f"tenant {name!r} has no active key {key_id!r}")])
        now = store._to_ts(store._now(tx))
        for k in active:
            tx.many("UPDATE cr_keys SET revoked_at = ? WHERE key_id = ?", [(now, k)])
    for digest, (k, _) in list(_VERIFIED.items()):
        if k in active:
            _VERIFIED.pop(digest, None)
    return len(active)


def authenticate(store: Store, key: str) -> str | None:
    """The tenant whose active key this is, or None (unknown, malformed or revoked)."""
    parts = _split(key)
    if parts is None:
        return None
    key_id, secret = parts
    with store._read() as tx:
        row = tx.one("SELECT tenant, salt, key_hash, revoked_at FROM cr_keys WHERE key_id = ?", (key_id,))
    if row is None or row[3] is not None:
        return None
    tenant, salt, stored, _ = row
    digest = hashlib.sha256(key.encode()).hexdigest()
    if _VERIFIED.get(digest) == (key_id, tenant):
        return tenant
    if not hmac.compare_digest(_hash(secret, salt), stored):
        return None
    _VERIFIED[digest] = (key_id, tenant)
    return tenant


def idempotent_response(store: Store, tenant: str, key: str) -> tuple[str, int, str] | None:
    """``(request_hash, status, response)`` recorded for an Idempotency-Key, or None."""
    with store._read() as tx:
        row = tx.one(
            "SELECT request_hash, status, response FROM cr_idempotency WHERE tenant = ? AND idem_key = ?", (tenant, key)
        )
    return (row[0], int(row[1]), row[2]) if row is not None else None


def record_response(store: Store, tenant: str, key: str, request_hash: str, status: int, response: str) -> None:
    """Remember the response to an Idempotency-Key (the first one recorded wins)."""
    with store._write(_LOCK_ID) as tx:
        tx.many(
            "INSERT INTO cr_idempotency (tenant, idem_key, request_hash, status, response, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(tenant, key, request_hash, status, response, store._to_ts(store._now(tx)))],
        )
