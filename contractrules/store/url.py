"""Store URLs: which backend, where, and how to show a URL without its password.

- ``sqlite:///contractrules.db`` -- a file relative to the working directory;
  ``sqlite:////var/lib/billing/contracts.db`` -- an absolute path (four slashes);
  a plain path (``contracts.db``, ``/tmp/x.db``) is a SQLite file too.
- ``postgresql://user:password@host:5432/dbname`` (or ``postgres://``) -- PostgreSQL
  through psycopg 3; any libpq parameter may follow (``?sslmode=require``,
  ``?options=-csearch_path%3Dbilling``).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from contractrules.errors import StoreError

#: Where the CLI's stores live unless ``--db`` (or ``CONTRACTRULES_DB``) says otherwise.
DEFAULT_URL = "sqlite:///contractrules.db"
POSTGRES_SCHEMES = ("postgresql", "postgres")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def backend_of(url: str | Path) -> tuple[str, str]:
    """``("sqlite", path)`` or ``("postgres", url)``; anything else is a StoreError."""
    text = str(url)
    match = _SCHEME.match(text)
    if match is None:
        if not text.strip():
            raise StoreError("empty store URL: use sqlite:///FILE or postgresql://...")
        return "sqlite", text
    scheme = match.group(1).lower()
    if scheme == "sqlite":
        path = text[len("sqlite://") :]
        if not path.startswith("/") or path == "/":
            raise StoreError(f"bad SQLite URL {text!r}: use sqlite:///relative.db or sqlite:////absolute/path.db")
        return "sqlite", path[1:]
    if scheme in POSTGRES_SCHEMES:
        return "postgres", text
    raise StoreError(f"unsupported store URL scheme {scheme!r}: use sqlite:///FILE or postgresql://...")


def display(url: str | Path) -> str:
    """The URL with any password replaced by ``***`` (for messages and logs)."""
    text = str(url)
    if not _SCHEME.match(text):
        return text
    parts = urlsplit(text)
    if parts.password is None:
        return text
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
