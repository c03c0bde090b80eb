"""``contractrules batch``: evaluate a directory of contracts against their events.

Registered by :mod:`contractrules.cli` through :func:`register`. Exit codes: 0 every
contract answered and nothing in the errors file; 3 completed with errors (some
contracts or events could not be used: see the errors file; every other contract was
answered); 2 bad invocation (a missing directory, an unknown format, Dask or pyarrow
missing, an output path that is or lies inside an input); 5 an output cannot be
written (disk full, not writable); 130 interrupted (nothing written; an earlier output
is untouched); 1 internal error.
"""

from __future__ import annotations

import json

import click

from contractrules.cli_params import ISO_DATE

EXIT_WITH_ERRORS = 3
EXIT_INTERRUPTED = 130


_OPTIONS = [
    click.option(
        "--contracts",
        "contracts",
        required=True,
        type=click.Path(exists=True, file_okay=False),
        help="Directory of contract files (.yaml, .yml, .json).",
    ),
    click.option(
        "--events",
        "events",
        type=click.Path(exists=True),
        help="A .jsonl/.ndjson or .parquet file whose events carry a 'contract' field, "
        "or a directory of <contract id>.jsonl (.ndjson, .json, .parquet) files.",
    ),
    click.option(
        "--as-of",
        "as_of",
        required=True,
        type=ISO_DATE,
        help="Evaluate every contract as of this local date (YYYY-MM-DD).",
    ),
    click.option(
        "--out",
        "out",
        required=True,
        type=click.Path(),
        help="answers.jsonl (one answer a line) or a directory for Parquet tables.",
    ),
    click.option(
        "--format",
        "fmt",
        type=click.Choice(["json", "table"]),
        default="table",
        show_default=True,
        help="The summary printed on stdout: json for programs, table for people. The answers' "
        "file format follows --out: *.jsonl/*.ndjson one answer a line, anything else Parquet.",
    ),
    click.option(
        "--errors",
        "errors",
        type=click.Path(dir_okay=False),
        help="Errors file (default: OUT.errors.jsonl, or OUT/errors.jsonl for Parquet).",
    ),
    click.option(
        "--workers",
        type=click.IntRange(min=1),
        help="Local worker processes (default: one per CPU; 1 = this process). "
        "With --dask local: the number of Dask workers.",
    ),
    click.option(
        "--dask",
        "dask",
        metavar="ADDRESS",
        help="Run on a Dask cluster: a scheduler address (tcp://host:8786) or 'local'.",
    ),
    click.option(
        "--skip-invalid",
        is_flag=True,
        help="Skip invalid events (listed in the errors file) instead of failing their contract.",
    ),
    click.option("--chunk-size", type=click.IntRange(min=1), help="Contracts per task (default: automatic)."),
    click.option(
        "--progress/--no-progress", default=None, help="Progress bar on stderr (default: only on a terminal)."
    ),
    click.option("--summary-json", type=click.Path(dir_okay=False), help="Also write the summary as JSON."),
]


def batch(
    contracts, events, as_of, out, fmt, errors, workers, dask, skip_invalid, chunk_size, progress, summary_json
) -> None:
    """Evaluate every contract in a directory against its events, in parallel.

    Writes one answer per contract (sorted by contract id), an errors file, and prints a
    summary. Exit 0: all answered; 3: completed with errors; 2: bad invocation.
    """
    from pathlib import Path

    from contractrules.batch.output import (
        StagedFile,
        default_errors_path,
        output_files,
        output_format,
        refuse_overlap,
    )
    from contractrules.batch.runner import run_batch

    outputs = output_files(out, output_format(out, None), errors)
    if summary_json:
        outputs["--summary-json"] = Path(summary_json)
    refuse_overlap(outputs, {"--contracts": contracts, "--events": events})
    try:
        summary = run_batch(
            contracts,
            events,
            as_of.date(),
            out,
            errors=errors,
            workers=workers,
            dask=dask,
            skip_invalid=skip_invalid,
            chunk_size=chunk_size,
            progress=progress,
        )
    except KeyboardInterrupt:
        click.echo(f"interrupted: nothing was written to {out} (an earlier output there is untouched)", err=True)
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    if summary_json:
        staged = StagedFile(summary_json)
        try:
            staged.write(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False).encode("utf-8"))
            staged.commit()
        except BaseException:
            staged.abort()
            raise
    if fmt == "json":
        click.echo(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
    else:
        for line in summary.render():
            click.echo(line)
    if not summary.ok:
        where = errors or default_errors_path(out, output_format(out, None))
        click.echo(f"Completed with errors: see {where}", err=True)
        raise click.exceptions.Exit(EXIT_WITH_ERRORS)


def register(main: click.Group) -> None:
    """Add ``batch`` to the ``contractrules`` command group (errors mapped by ``cli_errors``)."""
    from contractrules.cli_common import cli_errors
    from contractrules.cli_params import rates_options

    command = rates_options(cli_errors(batch))
    for option in reversed(_OPTIONS):
        command = option(command)
    main.command(name="batch")(command)
