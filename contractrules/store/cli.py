"""Store commands: ``contractrules db init|status`` and ``contractrules ingest``.

Also the pieces ``evaluate``/``penalty`` use to answer from a store instead of files
(``--db URL --contract ID [--known-at WHEN]``): :data:`db_option`,
:data:`contract_option`, :data:`known_at_option` and :func:`load_from_store`.

``--db`` defaults to ``$CONTRACTRULES_DB``, else ``sqlite:///contractrules.db`` (a file
in the working directory). No store there yet (or an older schema) exits 4 with
``store error: ... create it with `contractrules db init` ``; a store that cannot be used
otherwise (a newer schema, no server) exits 1; bad input exits 2 as everywhere.
Heavy imports (the engine, psycopg) happen inside the commands.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import click

from contractrules.cli_params import ISO_DATE, format_option
from contractrules.errors import StoreError, StoreNotInitialisedError
from contractrules.store.url import DEFAULT_URL, display

EXIT_STORE = 1
EXIT_NOT_INITIALISED = 4

# The options evaluate and penalty share are defined below the CLI (no store import for them).
from contractrules.cli_common import contract_option, db_option, known_at_option, tenant_option  # noqa: E402,F401


def guarded(command: Callable[..., Any]) -> Callable[..., Any]:
    """The CLI's error mapping (exit codes 1/2), plus ``store error: ...`` for StoreError."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from contractrules.cli_common import cli_errors

        def run() -> Any:
            try:
                return command(*args, **kwargs)
            except StoreError as exc:
                _store_failed(exc)

        return cli_errors(run)()

    return wrapper


def _store_failed(exc: StoreError) -> None:
    if disk_full(exc):  # SPEC §8: cannot write, exit 5
        click.echo(f"error: disk full: {exc}", err=True)
        raise click.exceptions.Exit(EXIT_WRITE)
    click.echo(f"store error: {exc}", err=True)
    raise click.exceptions.Exit(EXIT_NOT_INITIALISED if isinstance(exc, StoreNotInitialisedError) else EXIT_STORE)


EXIT_WRITE = 5


def disk_full(exc: BaseException) -> bool:
    """Whether a store failed because its disk is full (SQLite SQLITE_FULL, PostgreSQL
    53100 disk_full, or ENOSPC), however the driver words it."""
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) == "53100" or getattr(cause, "errno", None) == 28:
        return True
    text = str(exc).lower()
    return any(
        words in text for words in ("database or disk is full", "no space left on device", "could not extend file")
    )


def _open(db: str | None, migrate: bool = False, tenant: str = "default"):
    from contractrules.store import open_store

    return open_store(db or DEFAULT_URL, migrate=migrate, tenant=tenant)


def load_from_store(
    db: str | None, contract_id: str, as_of, known_at, files: tuple, skip_invalid: bool, tenant: str = "default"
):
    """``(contract, EventLoad)`` for ``evaluate``/``penalty --contract ID`` (StoreError -> exit 1)."""
    if any(f is not None for f in files):
        raise click.UsageError("--contract reads the contract and its events from the store: drop CONTRACT/EVENTS")
    if skip_invalid:
        raise click.UsageError("--skip-invalid applies to event files; a store holds only valid events")
    try:
        with _open(db, tenant=tenant) as store:
            snap = store.snapshot(contract_id, as_of, known_at=known_at)
    except StoreError as exc:
        _store_failed(exc)
    return snap.contract, snap.load


def check_file_mode(ctx: click.Context, known_at) -> None:
    """Without ``--contract``, ``--known-at`` and an explicit ``--db`` make no sense."""
    if known_at is not None:
        raise click.UsageError("--known-at needs --contract ID (it asks the store)")
    if ctx.get_parameter_source("db") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--db needs --contract ID (or drop --db to evaluate files)")


# --------------------------------------------------------------------------- db


@click.group()
def db() -> None:
    """Create, upgrade and inspect a contract store."""


@db.command("init")
@db_option
@guarded
def db_init(db: str | None) -> None:
    """Create the store's schema at --db, or upgrade it in place (safe to re-run)."""
    from contractrules.store import BACKENDS
    from contractrules.store.url import backend_of

    url = db or DEFAULT_URL
    backend, target = backend_of(url)
    with BACKENDS[backend](url, target, True) as store:
        before = store.schema_version()
        after = store.migrate()
    what = "created" if before is None else "up to date" if before == after else f"upgraded from {before}"
    click.echo(f"{display(url)}: schema version {after} ({what})")


@db.command("status")
@db_option
@format_option("table")
@guarded
def db_status(db: str | None, fmt: str) -> None:
    """Schema version and what the store holds (exit 4 if there is no store yet)."""
    with _open(db) as store:
        counts = store.counts()
        version = store.schema_version()
    if fmt == "json":
        click.echo(json.dumps({"store": display(store.url), "schema_version": version, **counts}, indent=2))
        return
    click.echo(f"{display(store.url)}: schema version {version}; " + ", ".join(f"{n} {k}" for k, n in counts.items()))


# --------------------------------------------------------------------------- ingest


@click.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False), metavar="[CONTRACT] [EVENTS]")
@db_option
@contract_option
@tenant_option
@click.option(
    "--effective-from",
    "effective_from",
    type=ISO_DATE,
    default=None,
    help="Record CONTRACT as an amendment (a new version) effective from this date.",
)
@format_option("table")
@guarded
def ingest(
    files: tuple[str, ...], db: str | None, contract_id: str | None, tenant: str, effective_from, fmt: str
) -> None:
    """Record CONTRACT and/or EVENTS in the store, as one atomic, idempotent batch.

    \b
    contractrules ingest contract.yaml events.jsonl      contract (if new or unchanged) + events
    contractrules ingest --contract ID events.jsonl      events for a stored contract
    contractrules ingest contract-v2.yaml --effective-from 2026-01-01   an amendment

    An event already stored with the same content is skipped; with other content the
    whole batch is refused (exit 2), as it is for any invalid line.
    """
    if len(files) > 2:
        raise click.UsageError("give at most CONTRACT and EVENTS")
    contract: str | None
    events: str | None
    if contract_id is not None and len(files) == 1:
        contract, events = None, files[0]
    elif files:
        contract, events = files[0], (files[1] if len(files) == 2 else None)
    else:
        raise click.UsageError("give CONTRACT [EVENTS], or --contract ID EVENTS")
    eff = effective_from.date() if effective_from is not None else None
    with _open(db, tenant=tenant) as store:
        result = store.ingest(contract, events, contract_id=contract_id, effective_from=eff)
    _report(result, fmt)


def _report(result, fmt: str) -> None:
    if fmt == "json":
        data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in result.__dict__.items()}
        click.echo(json.dumps(data, indent=2))
        return
    version = f"contract version {result.version}" + (" recorded" if result.new_version else "")
    events = f"{result.added} event(s) added, {result.duplicates} already stored"
    where = (
        f" (batch {result.batch}, recorded {result.recorded_at.isoformat()})"
        if result.batch is not None
        else " (nothing new)"
    )
    click.echo(f"{result.contract_id}: {version}; {events}{where}")


def register(main: click.Group) -> None:
    """Add ``db`` and ``ingest`` to the ``contractrules`` command group."""
    main.add_command(db)
    main.add_command(ingest)
