"""``make demo``: evaluate the two bundled example contracts and print their answers.

    python -m contractrules.demo [--format table|json] [--out-dir DIR]

With tables (the default) it also writes the agency story's statement of account and
demand letter, in Spanish, to DIR (default ``demo-output``) and prints their paths.
"""

from __future__ import annotations

import sys
from datetime import date
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from contractrules.api import evaluate, penalty_of
from contractrules.engine.engine import Engine
from contractrules.model.answers import Answer
from contractrules.report import render_answer, render_penalty

#: The bundled examples: package data (the repository's rulesets/examples), found the same
#: way in a checkout and in an installed wheel.
EXAMPLES = Path(str(resources.files("contractrules.rulesets") / "examples"))
# (example folder, as-of date, invoice whose penalty the story asks about)
STORIES = (
    ("website-care", date(2025, 10, 1), "INV-2025-07"),
    ("freelance-job", date(2025, 4, 30), "INV-0042"),
)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    as_json = "--format" in argv and argv[argv.index("--format") + 1] == "json"
    out_dir = Path(argv[argv.index("--out-dir") + 1]) if "--out-dir" in argv else Path("demo-output")
    console = Console()
    agency: tuple[Path, Answer, str] | None = None
    with Engine() as engine:
        for name, as_of, invoice in STORIES:
            folder = EXAMPLES / name
            answer = evaluate(folder / "contract.yaml", folder / "events.jsonl", as_of, engine=engine)
            if as_json:
                print(answer.to_json())
                continue
            console.print(Rule(f"{name}: rulesets/examples/{name}"))
            console.print(render_answer(answer))
            console.print(render_penalty(penalty_of(answer, invoice)))
            if name == "website-care":
                agency = (folder, answer, invoice)
    if agency is not None:
        _documents(console, agency[0], agency[1], agency[2], out_dir)
    return 0


def _documents(console: Console, folder: Path, answer, invoice: str, out_dir: Path) -> None:
    """The agency story's report and letter, in Spanish (contractrules.documents)."""
    from contractrules.documents import letter_from_answer, report_from_answer
    from contractrules.model import load_contract

    contract = load_contract(folder / "contract.yaml")
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / f"{folder.name}-informe-es.html"
    letter = out_dir / f"{folder.name}-requerimiento-{invoice}-es.md"
    report.write_text(report_from_answer(contract, answer, lang="es"), encoding="utf-8")
    letter.write_text(letter_from_answer(contract, answer, invoice, lang="es"), encoding="utf-8")
    console.print(Rule("website-care: documents for people (Spanish)"))
    console.print(f"Statement of account: {report}", soft_wrap=True)
    console.print(f"Demand letter:        {letter}", soft_wrap=True)


if __name__ == "__main__":
    raise SystemExit(main())
