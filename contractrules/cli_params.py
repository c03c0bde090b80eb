"""Options and parameter types shared by every command (one vocabulary for the whole CLI).

- :data:`ISO_DATE`: ``YYYY-MM-DD`` exactly — ``2025-10-1`` is refused, not guessed,
  ``2025-02-30`` is named as a day that does not exist, and a date outside the accepted
  range (:mod:`contractrules.limits`: 1900-01-01 to 2199-12-31) is refused.
- :func:`format_option`: ``--format json|table`` on every command that answers; ``json``
  is for programs (stable fields), ``table`` for people. Commands that write files choose
  the file format from the output's extension instead.
- :data:`rates_options`: ``--rates FILE`` (repeatable) and ``--rates-override``: user rate
  files that extend the bundled statutory tables (see :mod:`contractrules.statutory`).
  They set ``$CONTRACTRULES_RATES`` / ``$CONTRACTRULES_RATES_OVERRIDE`` for the command
  (so batch workers see them too) and restore the previous values when it ends.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import click

from contractrules import limits

# The variables contractrules.statutory reads (statutory.RATES_ENV, RATES_OVERRIDE_ENV: the
# same strings, tested), spelt here so that the command line does not import the rate
# tables' models to print its help.
RATES_ENV = "CONTRACTRULES_RATES"
RATES_OVERRIDE_ENV = "CONTRACTRULES_RATES_OVERRIDE"

F = TypeVar("F", bound=Callable[..., Any])
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


class IsoDate(click.ParamType):
    """A calendar date written ``YYYY-MM-DD`` (converted to a ``datetime`` at midnight,
    like ``click.DateTime``, so commands call ``.date()`` on it)."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)
        text = str(value).strip()
        if not _ISO.fullmatch(text):
            self.fail(
                f"{text!r} is not a date written YYYY-MM-DD (e.g. 2025-10-01: four-digit year, "
                "two-digit month and day)",
                param,
                ctx,
            )
        year, month, day = (int(p) for p in text.split("-"))
        try:
            moment = datetime(year, month, day)
        except ValueError:
            self.fail(_no_such_day(year, month, day), param, ctx)
        if not limits.in_range(moment.date()):  # issue 15: the accepted date range
            self.fail(f"{text} is outside the accepted range {limits.date_range_text()}", param, ctx)
        return moment


def _no_such_day(year: int, month: int, day: int) -> str:
    if not 1 <= month <= 12:
        return f"{year:04d}-{month:02d}-{day:02d}: there is no month {month}"
    last = (date(year + month // 12, month % 12 + 1, 1) - date(year, month, 1)).days
    return f"{year:04d}-{month:02d}-{day:02d}: the day does not exist ({year:04d}-{month:02d} has {last} days)"


ISO_DATE = IsoDate()


def format_option(default: str = "json") -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["json", "table"]),
        default=default,
        show_default=True,
        help="json: a JSON document for programs; table: a readable summary for people.",
    )


def _set_rates(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Put ``--rates`` / ``--rates-override`` into the environment for this command only."""
    if not value:
        return value
    name = RATES_ENV if param.name == "rates" else RATES_OVERRIDE_ENV
    old = os.environ.get(name)
    if param.name == "rates":
        new = os.pathsep.join([*(f for f in (old or "").split(os.pathsep) if f), *value])
    else:
        new = "1"
    os.environ[name] = new

    def restore() -> None:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old

    ctx.call_on_close(restore)
    return value


def rates_options(command: F) -> F:
    command = click.option(
        "--rates-override",
        "rates_override",
        is_flag=True,
        expose_value=False,
        callback=_set_rates,
        help="Let --rates files replace rows of the bundled tables (default: they may only extend them) "
        f"[env {RATES_OVERRIDE_ENV}=1].",
    )(command)
    return click.option(
        "--rates",
        "rates",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False),
        expose_value=False,
        callback=_set_rates,
        metavar="FILE",
        help="A statutory rate file of your own ({jurisdiction, rates: [...]}) that extends the bundled "
        f"table past its last row; repeatable [env {RATES_ENV}, files separated by '{os.pathsep}'].",
    )(command)
