"""``--format table``: a readable, coloured summary of an answer for people (rich)."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from contractrules.model.answers import Answer, PenaltyAnswer

STATUS_STYLE = {
    "pending": "yellow",
    "fulfilled": "green",
    "violated": "bold red",
    "waived": "cyan",
    "suspended": "magenta",
    "discharged": "dim",
}
EVIDENCE_STYLE = {"written": "green", "verbal": "bold yellow", "unknown": "dim"}


def _d(value) -> str:
    return value.isoformat() if value else "—"


def _state(answer: Answer) -> Text:
    s = answer.state
    text = Text.assemble(("Contract ", "bold"), (answer.contract, "bold cyan"), f" as of {answer.as_of}: ",
                         (s.state, {"active": "green", "terminating": "yellow", "terminated": "red"}[s.state]))
    if s.effective_end:
        text.append(f", ends {s.effective_end}")
    if s.notice:
        waived = " (notice period waived)" if s.notice.waived else ""
        text.append(f"; notice given {s.notice.given_on} by {s.notice.by}{waived}")
    return text


OPEN = ("pending", "violated", "suspended")


def obligations_table(answer: Answer, everything: bool = False) -> Table:
    """Open obligations in full (all of them with ``everything``); the rest counted."""
    shown = [o for o in answer.obligations if everything or o.status in OPEN]
    t = Table(title=f"Obligations ({'all' if everything else 'open'})", box=box.SIMPLE_HEAVY, title_justify="left")
    t.add_column("id", overflow="fold", min_width=20)
    t.add_column("amount", justify="right")
    t.add_column("balance", justify="right")
    t.add_column("due")
    t.add_column("status")
    t.add_column("evidence")
    for o in shown:
        t.add_row(o.id, o.amount or "", o.balance or "", _d(o.due),
                  Text(o.status + (f" {o.fulfilled_on}" if o.fulfilled_on else ""), STATUS_STYLE[o.status]),
                  Text(o.evidence, EVIDENCE_STYLE[o.evidence]))
    return t


def _closed_summary(answer: Answer) -> Text | None:
    counts: dict[tuple[str, str], int] = {}
    for o in answer.obligations:
        if o.status not in OPEN:
            counts[(o.status, o.kind)] = counts.get((o.status, o.kind), 0) + 1
    if not counts:
        return None
    parts = [f"{n} {kind} {status}" for (status, kind), n in sorted(counts.items())]
    return Text("Also: " + ", ".join(parts) + " (see --format json for all)", "dim")


def violations_list(answer: Answer) -> Group:
    """Each violation on one line, its explanation indented below (full width)."""
    lines: list = [Text("Violations", "bold italic")]
    for v in answer.violations:
        lines.append(Text.assemble(
            f"  {_d(v.on)}  ", (v.id, "bold"), f"  {v.party}  ",
            (v.severity, "bold red" if v.severity == "breach" else "yellow"), "  evidence: ",
            (v.evidence, EVIDENCE_STYLE[v.evidence]),
        ))
        lines.append(Padding(Text(v.explanation, "dim"), (0, 0, 0, 6)))
    return Group(*lines)


def penalties_table(answer: Answer, currency: str | None = None) -> Table:
    t = Table(title="Late penalties", box=box.SIMPLE_HEAVY, title_justify="left")
    right: dict[str, Any] = {"justify": "right"}
    settling = any(p.balance != p.total for p in answer.penalties)  # something paid or credited
    columns: list[tuple[str, dict[str, Any]]] = [("invoice", {}), ("enforceable", {}), ("from", {}),
                                                 ("interest", right), ("fixed fee", right), ("total", right)]
    if settling:
        columns.append(("balance", right))
    for col, kw in columns:
        t.add_column(col, no_wrap=True, **kw)
    t.add_column("why not (yet)", overflow="fold", min_width=16)
    for p in answer.penalties:
        cells: list[str | Text] = [p.invoice, Text("yes", "bold green") if p.enforceable else Text("no", "yellow"),
                 _d(p.enforceable_from), p.interest, p.fixed_fee, Text(p.total, "bold")]
        if settling:
            cells.append(p.balance)
        t.add_row(*cells, "; ".join(p.reasons))
    return t


def render_answer(answer: Answer, everything: bool = False) -> Group:
    parts: list[RenderableType] = [_state(answer), obligations_table(answer, everything)]
    closed = None if everything else _closed_summary(answer)
    if closed is not None:
        parts.append(closed)
    if answer.violations:
        parts.append(violations_list(answer))
    if answer.penalties:
        parts.append(penalties_table(answer))
    credit = answer.unapplied_credit
    if credit.caused_by:
        parts.append(Text(f"Unapplied credit: {credit.amount} {credit.currency} "
                          f"(events {', '.join(credit.caused_by)})", "bold"))
    for w in answer.warnings:
        parts.append(Text(f"warning: {w}", "yellow"))
    return Group(*parts)


def render_penalty(p: PenaltyAnswer):
    verdict = (Text("ENFORCEABLE", "bold green") if p.enforceable else Text("NOT ENFORCEABLE", "bold yellow"))
    lines = [
        Text.assemble("Invoice ", (p.invoice, "bold"), f" as of {p.as_of}: ", verdict),
        Text(f"due {_d(p.due)}, invoice balance {p.invoice_balance} {p.currency}"),
        Text(f"enforceable from: {_d(p.enforceable_from)}"),
        Text(f"interest {p.interest} + fixed fee {p.fixed_fee} = total {p.total} {p.currency}", "bold"),
        Text(f"paid towards the penalty {p.paid}, penalty balance {p.balance} {p.currency}"),
    ]
    lines += [Text(f"  because: {r}") for r in p.reasons]
    lines += [Text(f"warning: {w}", "yellow") for w in p.warnings]
    return Panel(Group(*lines), title="Late penalty", expand=False)


def print_renderable(renderable, console: Console | None = None) -> None:
    (console or Console()).print(renderable)
