"""Command line: ``contractrules <command>``. Thin: load, call the library, print.

Each command is a function decorated with :func:`cli_errors`, which turns the library's
errors into messages on stderr and an exit code (SPEC §8): 0 answered, 2 bad input
(each issue as ``file:line field: message``), 3 batch completed with errors, 4 store not
initialised, 5 cannot write (disk full, output not writable), 130 interrupted (Ctrl-C),
141 the reader of our output went away (broken pipe; no message), 1 internal error (a
bug, or a broken installation). Expected errors never print a traceback. Add a command
with ``@main.command()`` + ``@cli_errors``; shared options (``--format json|table``,
``--as-of``, ``--rates``) live in :mod:`contractrules.cli_params`. The command group
(:class:`CommandGroup`) applies the same mapping to anything that escapes a command
(Ctrl-C during start-up, a broken pipe while printing help).
"""

from __future__ import annotations

import importlib
import json
from collections import Counter
from typing import TYPE_CHECKING, Any

import click

from contractrules import limits
from contractrules.cli_common import (  # noqa: F401 - re-exported for command modules
    EXIT_BROKEN_PIPE,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_WRITE,
    INPUT_ERRORS,
    STORE_DEFAULT_URL,
    _flush_stdout,
    _stop,
    cli_errors,
    contract_option,
    db_option,
    known_at_option,
    report_issues,
    tenant_option,
)
from contractrules.cli_params import ISO_DATE, format_option, rates_options
from contractrules.errors import (
    ContractError,
    InputError,
    Issue,
)

if TYPE_CHECKING:
    from contractrules.model import ContractSource

# Start-up cost (issue 12): this module imports only click and the small modules above.
# The models, the compiler, the engine, yaml and rich are imported inside the commands
# that use them, and the optional commands (store, batch, documents, service) are
# registered on demand (LAZY_COMMANDS below), so ``contractrules --help`` and
# ``contractrules penalty`` load nothing they do not need
# (tests/unit/test_cli_imports.py).


class CommandGroup(click.Group):
    """The ``contractrules`` group: SPEC §8 exits for what escapes every command."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:  # --help and --version print here
            return super().make_context(*args, **kwargs)
        except (KeyboardInterrupt, OSError) as exc:
            stop = _stop(exc)
            if stop is None:
                raise
            raise stop from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            _flush_stdout()
            return result
        except (KeyboardInterrupt, OSError) as exc:
            stop = _stop(exc)
            if stop is None:
                raise
            raise stop from None


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="contractrules")
def main() -> None:
    """Evaluate contract terms against events, in event time."""


# --------------------------------------------------------------------------- check

_FILE = click.Path(exists=True, dir_okay=False)


def ambiguity_issues(source: ContractSource) -> list[Issue]:
    """With ``month_overflow: error``, every ambiguous schedule date is an input error."""
    from contractrules.model.describe import schedule_ambiguities

    billing = source.contract.terms.billing
    if billing is None or billing.month_overflow != "error":
        return []
    path = ("terms", "billing", "month_overflow")
    return [
        Issue(
            source.file,
            source.line(*path),
            ".".join(path),
            f"cycle {a.cycle}: {a.missing} and month_overflow is 'error' "
            "(use clip or roll_forward, or an anchor_day of 28 or less)",
        )
        for a in schedule_ambiguities(source.contract)
    ]


@main.command()
@click.argument("contract", type=_FILE)
@click.argument("events", type=_FILE, required=False)
@format_option("table")
@rates_options
@cli_errors
def check(contract: str, events: str | None, fmt: str) -> None:
    """Validate CONTRACT (and EVENTS) and summarise what they say.

    Lists every billing date within the next 24 cycles that the month-overflow rule had
    to decide. Exit 0 if valid, 2 if not (messages on stderr).

    CONTRACT may also be a statutory rate table (rulesets/statutory/*.yaml): it is checked
    for unknown keys, gaps, overlaps and unsorted rows.
    """
    from contractrules import statutory
    from contractrules.model import EVENT_TYPES, load_events, read_contract
    from contractrules.model.describe import HORIZON_CYCLES, describe_contract, schedule_ambiguities, term_warnings

    if _is_statutory_table(contract):
        t = statutory.load_table(contract)
        if fmt == "json":
            click.echo(json.dumps({"file": contract, "valid": True, **table_summary(t)}, indent=2, ensure_ascii=False))
        else:
            _check_table(t)
        return
    source = read_contract(contract)
    problems = ambiguity_issues(source)
    if problems:
        raise ContractError(problems)
    load = load_events(events, source.contract) if events is not None else None
    summary = describe_contract(source.contract)
    law = statutory.statutory_notes(source.contract)
    warned = term_warnings(source.contract)
    ambiguous = schedule_ambiguities(source.contract)
    counts: Counter[str] = Counter(r.event.type for r in load.records) if load is not None else Counter()
    if fmt == "json":
        doc: dict[str, Any] = {
            "contract": source.contract.id,
            "file": contract,
            "valid": True,
            "summary": summary,
            "statutory": [line.strip() for line in law],
            "warnings": [line.strip() for line in warned],
            "ambiguous_dates": [str(a) for a in ambiguous],
            "ambiguous_dates_horizon_cycles": HORIZON_CYCLES,
            "events": None
            if load is None
            else {
                "file": events,
                "valid": len(load.records),
                "by_type": {k: counts[k] for k in EVENT_TYPES if counts[k]},
            },
        }
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    width = _text_width()
    for line in [*summary, *law, *warned]:
        click.echo(wrap_line(line, width))
    click.echo(f"Ambiguous dates (first {HORIZON_CYCLES} cycles):" + ("" if ambiguous else " none"))
    for a in ambiguous:
        click.echo(f"  {a}")
    if load is not None:
        click.echo(f"Events: {len(load.records)} valid")
        for kind in EVENT_TYPES:
            if counts[kind]:
                click.echo(f"  {kind}: {counts[kind]}")


def _text_width() -> int:
    """The terminal's width, or 80 when the output is piped (COLUMNS wins when set)."""
    import shutil

    return max(40, shutil.get_terminal_size((80, 24)).columns)


def wrap_line(line: str, width: int) -> str:
    """Wrap one summary line at spaces, continuing under its value column.

    ``Billing:      600.00 EUR ...`` continues under ``600.00``; an indented item such as
    ``  malware-scan: every cycle; ...`` continues four columns in; words are never cut.
    """
    import re
    import textwrap

    if len(line) <= width:
        return line
    label = re.match(r"^(\s*[A-Za-z][\w .-]*:\s{2,})", line)
    lead = len(line) - len(line.lstrip(" "))
    indent = len(label.group(1)) if label else lead + 4
    if indent > width // 2:
        indent = lead + 4
    return textwrap.fill(
        line, width=width, subsequent_indent=" " * indent, break_long_words=False, break_on_hyphens=False
    )


def _is_statutory_table(path: str) -> bool:
    from pathlib import Path

    from contractrules.model.lines import DocumentSyntaxError, read_text, read_yaml

    if not path.endswith((".yaml", ".yml")):
        return False
    try:  # the same reader, limits and refusals as a contract
        head, _ = read_yaml(read_text(Path(path), path, InputError, limits.MAX_CONTRACT_BYTES))
    except (InputError, DocumentSyntaxError):
        return False  # read_contract reports it properly
    from contractrules.statutory import is_table_document

    return is_table_document(head)


def table_summary(t: Any) -> dict[str, Any]:
    """A statutory table's coverage and last row, as JSON data (``check``, ``rates``)."""
    law, last = t.data, t.data.rates[-1]
    return {
        "jurisdiction": law.jurisdiction,
        "name": law.name,
        "table": t.file,
        "currency": law.currency,
        "rate_mode": law.rate_mode,
        "rows": len(law.rates),
        "covers": {"from": law.rates[0].from_.isoformat(), "to": last.to.isoformat()},
        "last_row": {
            "from": last.from_.isoformat(),
            "to": last.to.isoformat(),
            "rate": str(last.rate),
            "source": last.source,
            "file": t.origin(len(law.rates) - 1) or t.file,
        },
        "user_files": list(t.user_files),
    }


def _check_table(t) -> None:
    law = t.data
    click.echo(f"Statutory table: {law.name} ({law.jurisdiction}, {law.currency})")
    click.echo(
        f"  rate mode: {law.rate_mode.replace('_', ' ')}; {len(law.rates)} rows, "
        f"{law.rates[0].from_} to {law.rates[-1].to} (no gaps, no overlaps, sorted)"
    )
    last = law.rates[-1]
    click.echo(f"  last row: {last.from_}..{last.to} {last.rate * 100:.2f}% ({last.source})")
    tiers = ", ".join(
        f"{t.amount} below {t.below}" if t.below is not None else f"{t.amount}" for t in law.fixed_compensation.tiers
    )
    click.echo(f"  fixed compensation: {law.currency} {tiers} ({law.fixed_compensation.source})")
    cap = law.payment_terms.max_days
    click.echo(
        f"  payment terms: default {law.payment_terms.default_days} days, "
        + (f"maximum {cap} days" if cap is not None else "no hard maximum")
        + f" ({law.payment_terms.source})"
    )


# --------------------------------------------------------------------------- answers

_FORMAT = format_option("json")
_AS_OF = click.option(
    "--as-of",
    "as_of",
    required=True,
    type=ISO_DATE,
    help="Evaluate as of this local date of the contract (YYYY-MM-DD).",
)
_SKIP = click.option(
    "--skip-invalid",
    is_flag=True,
    help="Report invalid events on stderr and evaluate the valid ones (default: refuse all).",
)


def _load(contract: str | None, events: str | None, skip_invalid: bool, *, store: dict | None = None):
    """The contract and events to answer from: files, or a store (``--db URL --contract ID``)."""
    from contractrules.api import as_records
    from contractrules.model import read_contract

    if store is not None and store["contract_id"] is None:
        ctx = click.get_current_context()
        if store["known_at"] is not None or ctx.get_parameter_source("db") == click.core.ParameterSource.COMMANDLINE:
            from contractrules.store import cli as store_cli

            store_cli.check_file_mode(ctx, store["known_at"])  # raises: these ask a store
    elif store is not None:
        from contractrules.store import cli as store_cli

        return store_cli.load_from_store(
            store["db"],
            store["contract_id"],
            store["as_of"],
            store["known_at"],
            (contract, events),
            skip_invalid,
            store.get("tenant", "default"),
        )
    if contract is None:
        raise click.UsageError("give CONTRACT [EVENTS], or --contract ID to answer from a store (--db URL)")
    c = read_contract(contract).contract
    load = as_records(events, c, skip_invalid=skip_invalid)
    report_issues(load.skipped)
    return c, load


@main.command()
@click.argument("contract", type=_FILE, required=False)
@click.argument("events", type=_FILE, required=False)
@_AS_OF
@_FORMAT
@_SKIP
@click.option("--all", "everything", is_flag=True, help="table: list every obligation, not only open ones.")
@db_option
@contract_option
@known_at_option
@rates_options
@tenant_option
@cli_errors
def evaluate(
    contract: str | None,
    events: str | None,
    as_of,
    fmt: str,
    skip_invalid: bool,
    everything: bool,
    db: str | None,
    contract_id: str | None,
    known_at,
    tenant: str,
) -> None:
    """Evaluate CONTRACT against EVENTS as of a date: state, obligations, violations, penalties.

    Or answer from a store: --contract ID [--db URL] [--known-at WHEN].
    """
    from contractrules.api import evaluate as run

    store = {"db": db, "contract_id": contract_id, "as_of": as_of.date(), "known_at": known_at, "tenant": tenant}
    c, load = _load(contract, events, skip_invalid, store=store)
    answer = run(c, load, as_of.date())
    if fmt == "json":
        click.echo(answer.to_json())
    else:
        from contractrules.report import print_renderable, render_answer

        print_renderable(render_answer(answer, everything))


@main.command()
@click.argument("contract", type=_FILE, required=False)
@click.argument("events", type=_FILE, required=False)
@click.option("--invoice", required=True, help="The invoice id to ask about.")
@_AS_OF
@_FORMAT
@_SKIP
@db_option
@contract_option
@known_at_option
@rates_options
@tenant_option
@cli_errors
def penalty(
    contract: str | None,
    events: str | None,
    invoice: str,
    as_of,
    fmt: str,
    skip_invalid: bool,
    db: str | None,
    contract_id: str | None,
    known_at,
    tenant: str,
) -> None:
    """Is the late penalty on one invoice enforceable as of a date, from when, and how much?

    Or answer from a store: --contract ID [--db URL] [--known-at WHEN].
    """
    from contractrules.api import evaluate as run
    from contractrules.api import penalty_of

    store = {"db": db, "contract_id": contract_id, "as_of": as_of.date(), "known_at": known_at, "tenant": tenant}
    c, load = _load(contract, events, skip_invalid, store=store)
    events_name = events if events is not None else (f"store contract {contract_id}" if contract_id else "<no events>")
    answer = penalty_of(run(c, load, as_of.date()), invoice, events_name)
    if fmt == "json":
        click.echo(answer.to_json())
    else:
        from contractrules.report import print_renderable, render_penalty

        print_renderable(render_penalty(answer))


@main.command(name="compile")
@click.argument("contract", type=_FILE)
@_FORMAT
@rates_options
@cli_errors
def compile_command(contract: str, fmt: str) -> None:
    """Print the declarative ruleset document CONTRACT compiles to (json), or its rules (table)."""
    from contractrules.compiler import compile_contract
    from contractrules.model import read_contract

    doc = compile_contract(read_contract(contract).contract)
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    from contractrules.report import print_renderable, render_ruleset

    print_renderable(render_ruleset(doc))


@main.command()
@click.argument("jurisdictions", nargs=-1, type=click.Choice(["ES", "UK", "EU"], case_sensitive=False))
@format_option("table")
@rates_options
@cli_errors
def rates(jurisdictions: tuple[str, ...], fmt: str) -> None:
    """Statutory rate tables: what each covers and its last row (all, or ES, UK, EU).

    With --rates FILE, the tables as extended by your own rate files. A day after a
    table's last row uses the last known rate, and answers say so in a warning.
    """
    from contractrules import statutory

    codes = [j.upper() for j in jurisdictions] or list(statutory.JURISDICTIONS)
    summaries = [table_summary(statutory.table(code)) for code in codes]
    if fmt == "json":
        click.echo(json.dumps(summaries, indent=2, ensure_ascii=False))
        return
    from contractrules.report import print_renderable, render_rates

    print_renderable(render_rates(summaries))


SCHEMAS = ("contract", "events", "answer", "penalty")


@main.command()
@click.argument("which", type=click.Choice(SCHEMAS))
@click.option(
    "--path",
    "show_path",
    is_flag=True,
    help="contract: print the path of the schema file installed with contractrules instead.",
)
@cli_errors
def schema(which: str, show_path: bool) -> None:
    """Print the JSON Schema of a contract document, an event, an answer or a penalty answer.

    Editors use the contract schema to complete and check contracts as you type; see
    docs/contract-format.md for the YAML language server modeline.
    """
    from contractrules import schemas

    if show_path:
        if which != "contract":
            raise click.UsageError("--path: only the contract schema ships as a file")
        click.echo(schemas.installed_path())
        return
    click.echo(json.dumps(schemas.schema(which), indent=2, ensure_ascii=False))


# --------------------------------------------------------------------------- optional commands
# Packages that bring their own commands (the store, batch evaluation, documents, the HTTP service) expose
# ``register(main)``. They are imported only when one of their commands is asked for, so
# ``evaluate`` and ``penalty`` load none of them; ``contractrules --help`` lists them from
# LAZY_HELP (the first paragraph of each command's help, checked against the commands by
# tests/unit/test_cli_imports.py) without importing them either. A missing optional
# dependency hides nothing, because each imports its heavy dependencies inside the commands.
LAZY_COMMANDS = {
    "db": "contractrules.store.cli",
    "ingest": "contractrules.store.cli",
    "batch": "contractrules.batch.cli",
    "report": "contractrules.documents.cli",
    "letter": "contractrules.documents.cli",
    "serve": "contractrules.service.cli",
    "tenant": "contractrules.service.cli",
}
LAZY_HELP = {
    "db": "Create, upgrade and inspect a contract store.",
    "ingest": "Record CONTRACT and/or EVENTS in the store, as one atomic, idempotent batch.",
    "batch": "Evaluate every contract in a directory against its events, in parallel.",
    "report": "The statement of account of CONTRACT as of a date, as one self-contained HTML page.",
    "letter": "A draft demand letter (requerimiento de pago) for one unpaid INVOICE.",
    "serve": "Serve the store over HTTP (JSON; OpenAPI at /openapi.json; docs/service.md).",
    "tenant": "Tenants of the HTTP service and their API keys.",
}
_LISTING = "contractrules.cli listing"  # ctx.meta key: the group's help is listing its commands


def _register(module: str) -> None:
    try:
        importlib.import_module(module).register(main)
    except ModuleNotFoundError as exc:
        if exc.name != module and not module.startswith(str(exc.name)):
            raise


def _installed(module: str) -> bool:
    """Whether the package holding an optional command's module is there (without importing it)."""
    import importlib.util

    return importlib.util.find_spec(module.rpartition(".")[0]) is not None


class _LazyGroup(CommandGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            if ctx.meta.get(_LISTING):  # only its name and help are needed: import nothing
                return (
                    click.Command(cmd_name, help=LAZY_HELP[cmd_name]) if _installed(LAZY_COMMANDS[cmd_name]) else None
                )
            _register(LAZY_COMMANDS[cmd_name])
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        ctx.meta[_LISTING] = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            del ctx.meta[_LISTING]


main.__class__ = _LazyGroup
