"""Values the store writes and compares: canonical JSON, content hashes, instants.

- Canonical JSON: keys sorted, no spaces, UTF-8, ``None`` fields left out; events are
  stored *after* validation (amounts as strings, ``by`` resolved to the party id), so
  what is stored is what the engine reads.
- ``known_at``: the recording-time cut-off of a bitemporal question. A timestamp must
  carry an offset (like an event's ``at``); a plain date ``D`` means "everything
  recorded by the end of D, UTC". :func:`cutoff` turns both into an aware UTC instant.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime, time, timedelta

from contractrules import limits
from contractrules.errors import DateError, InputError, Issue
from contractrules.model import Contract
from contractrules.model.types import parse_at

#: The tenant of every contract written without one (the CLI's, and every pre-tenant store's).
DEFAULT_TENANT = "default"
_TENANT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


def tenant_name(name: str) -> str:
    """A valid tenant name (lower-case letters, digits, ``-`` and ``_``; 1-63), or InputError."""
    if not isinstance(name, str) or not _TENANT_NAME.fullmatch(name):
        raise InputError(
            [
                Issue(
                    "<tenant>",
                    None,
                    "tenant",
                    f"bad tenant name {name!r}: use 1-63 lower-case letters, digits, '-' or '_' "
                    "(starting with a letter or digit)",
                )
            ]
        )
    return name


#: One tick of the store's clock: consecutive batches of a contract are at least this far apart.
TICK = timedelta(microseconds=1)
_TEXT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def canonical_json(data: object) -> str:
    """The one text of a JSON value: sorted keys, compact separators, UTF-8 kept."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_json(event) -> str:
    """The canonical JSON of a validated event (fields that are ``None`` left out)."""
    return canonical_json(event.model_dump(mode="json", exclude_none=True))


def contract_json(contract: Contract) -> str:
    """The canonical JSON of a validated contract (every field, defaults included)."""
    return canonical_json(contract.model_dump(mode="json"))


def content_hash(text: str) -> str:
    """SHA-256 of canonical JSON, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def utc(moment: datetime) -> datetime:
    """An aware instant in UTC (refuses a naive one)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError([Issue("<call>", None, "known_at", "a timestamp needs an offset (e.g. 'Z' or '+02:00')")])
    return moment.astimezone(UTC)


def ts_text(moment: datetime) -> str:
    """An instant as fixed-width UTC text (SQLite): text order is time order."""
    return utc(moment).strftime(_TEXT_FORMAT)


def ts_from_text(text: str) -> datetime:
    return datetime.strptime(text, _TEXT_FORMAT).replace(tzinfo=UTC)


def cutoff(known_at: datetime | date | str | None) -> datetime | None:
    """The UTC instant a ``known_at`` stands for (None: everything recorded so far)."""
    if known_at is None:
        return None
    if isinstance(known_at, str):
        try:
            known_at = parse_at(known_at)
        except ValueError as exc:
            raise InputError([Issue("<call>", None, "known_at", str(exc))]) from None
    if isinstance(known_at, date):
        _bounded(known_at, "known_at")
    if isinstance(known_at, datetime):
        return utc(known_at)
    if isinstance(known_at, date):
        return datetime.combine(known_at + timedelta(days=1), time.min, UTC) - TICK
    raise InputError([Issue("<call>", None, "known_at", f"expected a date or a timestamp, got {known_at!r}")])


def local_date(value: date | str, field: str = "as_of") -> date:
    """A local date given as a ``date`` or ``YYYY-MM-DD`` (a datetime is refused)."""
    if isinstance(value, datetime):
        raise InputError([Issue("<call>", None, field, "expected a date (YYYY-MM-DD), got a timestamp")])
    if isinstance(value, date):
        return _bounded(value, field)
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return _bounded(day, field)
    raise InputError([Issue("<call>", None, field, f"expected a date (YYYY-MM-DD), got {limits.excerpt(str(value))}")])


def _bounded(value, field: str):
    """``value`` inside the accepted date range (:mod:`contractrules.limits`), else InputError."""
    try:
        return limits.check_date(value, field)
    except DateError as exc:
        raise InputError([Issue("<call>", None, field, str(exc))]) from None
