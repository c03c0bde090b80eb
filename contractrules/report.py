"""``--format table``: a readable, coloured summary of an answer for people (rich).

Readable at 80 columns and when piped (rich then assumes 80): long ids wrap at their
separators (``:`` then ``.``/``-``), never mid-word unless one part alone is wider than
its column; long text (reasons, explanations, warnings) goes under its row at full width
and is never cut; headers never wrap.
"""

from __future__ import annotations

import re
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
    text = Text.assemble(
        ("Contract ", "bold"),
        (answer.contract, "bold cyan"),
        f" as of {answer.as_of}: ",
        (s.state, {"active": "green", "terminating": "yellow", "terminated": "red"}[s.state]),
    )
    if s.effective_end:
        text.append(f", ends {s.effective_end}")
    if s.notice:
        waived = " (notice period waived)" if s.notice.waived else ""
        text.append(f"; notice given {s.notice.given_on} by {s.notice.by}{waived}")
    return text


OPEN = ("pending", "violated", "suspended")
_PARTS = (re.compile(r"[^:]+:?"), re.compile(r"[^.\-]+[.\-]?"))


def wrap_id(text: str, width: int) -> str:
    """``text`` in lines of at most ``width``, broken after ``:`` first, then ``.`` or ``-``;
    a part that is still too long is cut (the only mid-word break)."""
    width = max(width, 8)

    def pieces(part: str, level: int) -> list[str]:
        if len(part) <= width:
            return [part]
        if level == len(_PARTS):
            return [part[i : i + width] for i in range(0, len(part), width)]
        return [p for sub in _PARTS[level].findall(part) for p in pieces(sub, level + 1)]

    lines: list[str] = []
    for piece in pieces(text, 0):
        if lines and len(lines[-1]) + len(piece) <= width:
            lines[-1] += piece
        else:
            lines.append(piece)
    return "\n".join(lines)


def _table(title: str) -> Table:
    return Table(
        title=title,
        box=box.SIMPLE_HEAD,
        title_justify="left",
        title_style="bold italic",
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
    )


def obligations_table(answer: Answer, everything: bool = False, width: int = 80) -> Table:
    """Open obligations in full (all of them with ``everything``); the rest counted."""
    shown = [o for o in answer.obligations if everything or o.status in OPEN]
    money = max([len("balance"), *(len(o.amount or "") for o in shown), *(len(o.balance or "") for o in shown)])
    # due, status, amount, balance, evidence; then 5 column gaps and 5 x 2 padding
    fixed = 10 + 10 + 2 * money + 8 + 5 + 10
    id_width = min(max(16, width - fixed - 1), max([len("obligation"), *(len(o.id) for o in shown)]))
    t = _table(f"Obligations ({'all' if everything else 'open'})")
    t.add_column("obligation", no_wrap=True, width=id_width)
    for name, justify in (
        ("due", "left"),
        ("status", "left"),
        ("amount", "right"),
        ("balance", "right"),
        ("evidence", "left"),
    ):
        t.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for o in shown:
        status = Text(o.status, STATUS_STYLE[o.status])
        if o.fulfilled_on:
            status.append(f"\n{o.fulfilled_on}", "dim")
        t.add_row(
            wrap_id(o.id, id_width),
            _d(o.due),
            status,
            o.amount or "",
            o.balance or "",
            Text(o.evidence, EVIDENCE_STYLE[o.evidence]),
        )
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
        lines.append(
            Text.assemble(
                f"  {_d(v.on)}  ",
                (v.id, "bold"),
                f"  {v.party}  ",
                (v.severity, "bold red" if v.severity == "breach" else "yellow"),
                "  evidence: ",
                (v.evidence, EVIDENCE_STYLE[v.evidence]),
            )
        )
        lines.append(Padding(Text(v.explanation, "dim"), (0, 0, 0, 6)))
    return Group(*lines)


def penalties_table(answer: Answer, currency: str | None = None, width: int = 80) -> Group:
    """One row per invoice; each reason in full under the table (a reason is a sentence)."""
    t = _table("Late penalties")
    right: dict[str, Any] = {"justify": "right"}
    settling = any(p.balance != p.total for p in answer.penalties)  # something paid or credited
    columns: list[tuple[str, dict[str, Any]]] = [
        ("invoice", {}),
        ("enforceable", {}),
        ("from", {}),
        ("interest", right),
        ("fixed fee", right),
        ("total", right),
    ]
    if settling:
        columns.append(("balance", right))
    for col, kw in columns:
        t.add_column(col, no_wrap=True, **kw)
    for p in answer.penalties:
        cells: list[str | Text] = [
            wrap_id(p.invoice, 24),
            Text("yes", "bold green") if p.enforceable else Text("no", "yellow"),
            _d(p.enforceable_from),
            p.interest,
            p.fixed_fee,
            Text(p.total, "bold"),
        ]
        if settling:
            cells.append(p.balance)
        t.add_row(*cells)
    lines: list[Any] = [t]
    for p in answer.penalties:
        if p.reasons:
            lines.append(Text.assemble(("  " + p.invoice, "bold"), " — why not (yet):"))
            lines += [Padding(Text(r), (0, 0, 0, 6)) for r in p.reasons]
    return Group(*lines)


def render_answer(answer: Answer, everything: bool = False, width: int | None = None) -> Group:
    width = Console().width if width is None else width
    parts: list[RenderableType] = [_state(answer), obligations_table(answer, everything, width)]
    closed = None if everything else _closed_summary(answer)
    if closed is not None:
        parts.append(closed)
    if answer.violations:
        parts.append(violations_list(answer))
    if answer.penalties:
        parts.append(penalties_table(answer, width=width))
    credit = answer.unapplied_credit
    if credit.caused_by:
        parts.append(
            Text(f"Unapplied credit: {credit.amount} {credit.currency} (events {', '.join(credit.caused_by)})", "bold")
        )
    for r in answer.rights:
        parts.append(Text(f"Right: {r.id} held by {r.party} from {_d(r.from_)} ({r.clause})", "bold"))
    for w in answer.warnings:
        parts.append(Text(f"warning: {w}", "yellow"))
    return Group(*parts)


def render_penalty(p: PenaltyAnswer):
    verdict = Text("ENFORCEABLE", "bold green") if p.enforceable else Text("NOT ENFORCEABLE", "bold yellow")
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


def render_rates(summaries: list[dict[str, Any]]) -> Group:
    """``contractrules rates``: per table, what it covers and its last row (in full)."""
    lines: list[Any] = []
    for s in summaries:
        last = s["last_row"]
        lines.append(Text.assemble((s["jurisdiction"], "bold cyan"), f"  {s['name']}"))
        lines.append(
            Padding(
                Text(
                    f"table {s['table']}"
                    + "".join(f" + {f}" for f in s["user_files"])
                    + f"; {s['rows']} rows; covers {s['covers']['from']} to {s['covers']['to']}; "
                    f"rate {s['rate_mode'].replace('_', ' ')}"
                ),
                (0, 0, 0, 4),
            )
        )
        lines.append(
            Padding(
                Text.assemble(
                    "last row: ",
                    (f"{last['from']}..{last['to']}  {float(last['rate']) * 100:.2f}%", "bold"),
                    f"  ({last['source']})" + ("" if last["file"] == s["table"] else f" from {last['file']}"),
                ),
                (0, 0, 0, 4),
            )
        )
        lines.append(
            Padding(Text(f"a day after {s['covers']['to']} uses this last rate, with a warning", "dim"), (0, 0, 0, 4))
        )
    return Group(*lines)


def render_ruleset(doc: dict[str, Any]) -> Group:
    """``compile --format table``: the ruleset's clauses and rules, one line each."""
    c = doc["contract"]
    lines: list[Any] = [
        Text.assemble(("Ruleset ", "bold"), (doc["ruleset"], "bold cyan"), f" ({doc['format']}) for contract {c['id']}")
    ]
    lines.append(Text(f"clauses: {', '.join(doc['clauses'])}"))
    for name, rule in doc["rules"].items():
        lines.append(Padding(Text.assemble((name, "bold"), f"  when {_conditions(rule)}"), (0, 0, 0, 2)))
    return Group(*lines)


def _conditions(rule: dict[str, Any]) -> str:
    def one(m: Any) -> str:
        if isinstance(m, dict) and "$and" in m:
            return " and ".join(one(x) for x in m["$and"])
        if isinstance(m, dict):
            return ", ".join(f"{k} = {v}" for k, v in m.items())
        return str(m)

    return "; ".join(one(cond.get("m")) for cond in rule.get("all", [])) or "always"


def print_renderable(renderable, console: Console | None = None) -> None:
    console = console or Console()
    console.on_broken_pipe = _broken_pipe  # type: ignore[method-assign]  # rich would exit 1; we exit 141
    console.print(renderable)


def _broken_pipe() -> None:
    raise BrokenPipeError()
