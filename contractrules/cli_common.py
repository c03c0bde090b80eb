"""What every command shares: SPEC §8 exit codes, the error mapping, the store options.

:func:`cli_errors` turns the library's errors into messages on stderr and an exit code;
:data:`db_option`, :data:`contract_option`, :data:`tenant_option` and
:data:`known_at_option` are the options of every command that can answer from a store.
This module sits below :mod:`contractrules.cli` and the command modules of the store,
batch, documents and service, so none of them has to import the command line itself.
"""

from __future__ import annotations

import errno
import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from contractrules.errors import (
    CompileError,
    ContractRulesError,
    DateError,
    InputError,
    Issue,
    MoneyError,
    OutputError,
)

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INPUT = 2
EXIT_WRITE = 5
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}

#: Errors caused by the user's input (exit 2); any other ContractRulesError is internal.
INPUT_ERRORS: tuple[type[ContractRulesError], ...] = (InputError, DateError, MoneyError, CompileError)


def report_issues(issues: tuple[Issue, ...] | list[Issue]) -> None:
    """Print issues on stderr, one ``file:line field: message`` a line."""
    for issue in issues:
        click.echo(str(issue), err=True)


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the exit flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no real stdout
        pass


def _stop(exc: BaseException) -> click.exceptions.Exit | None:
    """The exit for an interruption, a broken pipe or a full disk; None for anything else."""
    if isinstance(exc, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        return click.exceptions.Exit(EXIT_INTERRUPTED)
    if isinstance(exc, BrokenPipeError):
        _quiet_stdout()
        return click.exceptions.Exit(EXIT_BROKEN_PIPE)
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
        where = f" writing {exc.filename}" if exc.filename else ""
        click.echo(f"error: disk full{where}; nothing was left half-written", err=True)
        return click.exceptions.Exit(EXIT_WRITE)
    return None


def _flush_stdout() -> None:
    """Flush our output while a broken pipe can still be mapped to exit 141."""
    try:
        sys.stdout.flush()
    except (AttributeError, ValueError):  # pragma: no cover - stdout replaced or closed
        pass


def cli_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Map library errors to stderr messages and exit codes, without tracebacks."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = command(*args, **kwargs)
            _flush_stdout()
            return result
        except (KeyboardInterrupt, BrokenPipeError) as exc:
            stop = _stop(exc)
            assert stop is not None  # both always stop
            raise stop from None
        except OutputError as exc:
            click.echo(f"error: {exc}", err=True)
            raise click.exceptions.Exit(EXIT_WRITE) from None
        except InputError as exc:
            report_issues(exc.issues)
            raise click.exceptions.Exit(EXIT_INPUT) from None
        except INPUT_ERRORS as exc:
            click.echo(f"error: {exc}", err=True)
            raise click.exceptions.Exit(EXIT_INPUT) from None
        except ContractRulesError as exc:
            if isinstance(exc.__cause__, INPUT_ERRORS):  # bad input met while running (an engine action)
                click.echo(f"error: {exc.__cause__}", err=True)
                raise click.exceptions.Exit(EXIT_INPUT) from None
            click.echo(f"internal error: {exc}", err=True)
            raise click.exceptions.Exit(EXIT_INTERNAL) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except OSError as exc:
            stop = _stop(exc)
            if stop is not None:
                raise stop from None
            _internal(exc)
        except Exception as exc:  # a bug: say so, exit 1, traceback only on request
            _internal(exc)

    return wrapper


def _internal(exc: Exception) -> None:
    """A bug: say so, exit 1, traceback only on request."""
    if os.environ.get("CONTRACTRULES_DEBUG"):
        raise exc
    what = repr(exc)
    what = what if len(what) <= 200 else what[:197] + "..."
    click.echo(f"internal error: {what} (set CONTRACTRULES_DEBUG=1 for a traceback)", err=True)
    raise click.exceptions.Exit(EXIT_INTERNAL) from None


# --db URL --contract ID --known-at WHEN: answer from a store (contractrules/store/cli.py,
# imported only when a store is named)

# --------------------------------------------------------------------------- store options
# Shared by evaluate, penalty and the store's commands (store/cli.py takes them from
# here); defined here so that a command answering from files imports nothing of the store (contractrules.store.url.DEFAULT_URL
# is the same string: tested).
STORE_DEFAULT_URL = "sqlite:///contractrules.db"

db_option = click.option(
    "--db",
    "db",
    envvar="CONTRACTRULES_DB",
    default=None,
    metavar="URL",
    help=f"Store URL: sqlite:///FILE or postgresql://... [env CONTRACTRULES_DB; default {STORE_DEFAULT_URL}]",
)
contract_option = click.option(
    "--contract",
    "contract_id",
    default=None,
    metavar="ID",
    help="Read this contract and its events from the store (--db) instead of files.",
)
tenant_option = click.option(
    "--tenant",
    "tenant",
    default="default",
    show_default=True,
    metavar="NAME",
    help="Whose contracts: the store's key is (tenant, contract id).",
)


def _known_at(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Validate ``--known-at`` here (format, date range); the store turns it into an
    instant (``contractrules.store.values.cutoff``) when it reads."""
    if value is None:
        return None
    from contractrules.model.types import parse_at

    try:
        parse_at(value)
    except (ValueError, DateError) as exc:
        raise click.BadParameter(str(exc)) from None
    return value


known_at_option = click.option(
    "--known-at",
    "known_at",
    default=None,
    metavar="WHEN",
    callback=_known_at,
    help="Answer with only what the store had recorded by then: a timestamp with offset "
    "(2025-10-01T09:00:00+02:00) or a date (= the end of that day, UTC).",
)
