"""``contractrules report`` and ``contractrules letter`` (registered by contractrules.cli).

Both answer from files (CONTRACT EVENTS) or from a store (``--contract ID [--db URL]
[--known-at WHEN]``), like ``evaluate``. Output goes to stdout, or to ``--out FILE``
(written to a temporary file next to it, then renamed: never half a document; exit 5
when it cannot be written).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

EXIT_CANNOT_WRITE = 5

_LANG = click.option(
    "--lang",
    type=click.Choice(["es", "en"]),
    default="en",
    show_default=True,
    help="Language of the document (dates and money in its locale: es_ES, en_GB).",
)


def _write(text: str, out: str | None) -> None:
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    path = Path(out)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        click.echo(f"cannot write {out}: {exc.strerror or exc}", err=True)
        raise click.exceptions.Exit(EXIT_CANNOT_WRITE) from None


def register(main: click.Group) -> None:
    from contractrules import cli
    from contractrules.store import cli as store_cli

    @main.command()
    @click.argument("contract", type=cli._FILE, required=False)
    @click.argument("events", type=cli._FILE, required=False)
    @cli._AS_OF
    @_LANG
    @click.option("--out", type=click.Path(dir_okay=False), help="Write the HTML to this file (default: stdout).")
    @cli._SKIP
    @store_cli.db_option
    @store_cli.contract_option
    @store_cli.known_at_option
    @store_cli.tenant_option
    @cli.cli_errors
    def report(contract, events, as_of, lang, out, skip_invalid, db, contract_id, known_at, tenant) -> None:
        """The statement of account of CONTRACT as of a date, as one self-contained HTML page.

        Timeline, every invoice, credit note and payment, the interest table of each late
        invoice, scope findings, with the clauses and event ids behind every line. No
        JavaScript, nothing fetched; prints on A4. Or from a store: --contract ID [--db URL].
        """
        from contractrules.api import evaluate
        from contractrules.documents.render import report_html

        store = {"db": db, "contract_id": contract_id, "as_of": as_of.date(), "known_at": known_at, "tenant": tenant}
        c, load = cli._load(contract, events, skip_invalid, store=store)
        _write(report_html(c, evaluate(c, load, as_of.date()), lang), out)

    @main.command()
    @click.argument("contract", type=cli._FILE, required=False)
    @click.argument("events", type=cli._FILE, required=False)
    @click.option("--invoice", required=True, help="The unpaid invoice to claim.")
    @cli._AS_OF
    @_LANG
    @click.option(
        "--pay-by",
        "pay_by",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        help="Payment deadline (default: the as-of date + 10 days).",
    )
    @click.option(
        "--out",
        type=click.Path(dir_okay=False),
        help="Write the letter to this file: HTML if it ends in .html, else Markdown (default: stdout).",
    )
    @cli._SKIP
    @store_cli.db_option
    @store_cli.contract_option
    @store_cli.known_at_option
    @store_cli.tenant_option
    @cli.cli_errors
    def letter(
        contract, events, invoice, as_of, lang, pay_by, out, skip_invalid, db, contract_id, known_at, tenant
    ) -> None:
        """A draft demand letter (requerimiento de pago) for one unpaid INVOICE.

        The debt, the interest table, the compensation, the legal basis, a payment
        deadline and the evidence. Markdown on stdout, or HTML with --out FILE.html.
        A draft to be checked, not legal advice.
        """
        from contractrules.api import evaluate
        from contractrules.documents.render import letter as render_letter

        store = {"db": db, "contract_id": contract_id, "as_of": as_of.date(), "known_at": known_at, "tenant": tenant}
        c, load = cli._load(contract, events, skip_invalid, store=store)
        html = out is not None and out.lower().endswith((".html", ".htm"))
        text = render_letter(c, evaluate(c, load, as_of.date()), invoice, lang, pay_by.date() if pay_by else None, html)
        _write(text, out)
