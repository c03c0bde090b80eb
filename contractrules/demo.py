"""``make demo``: evaluate the two bundled example contracts and print their answers.

    python -m contractrules.demo [--format table|json]
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
    console = Console()
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
