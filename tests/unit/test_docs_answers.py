"""The answers shown in the user docs are the engine's real answers.

Pages: docs/answers.md, api.md, cli.md, semantics.md, story-agency.md and documents.md. Checked here:

- `````python`` blocks: executed from the repository root, each in a fresh namespace;
  their ``assert`` statements are the check.
- `````console`` blocks: the first line is ``$ contractrules ...`` (a trailing ``\\``
  continues it); the command runs through click's CliRunner on ``contractrules.cli.main``.
  An optional ``$ echo $?`` line followed by a number is the expected exit code (default
  0). JSON output is parsed and compared with stdout, any lines before it with stderr;
  other text is compared line by line (trailing spaces ignored); ``--format table``
  output is checked by exit code and by the dates and amounts it shows.
- `````json`` blocks right after ``<!-- excerpt of: contractrules ... -->``: an excerpt
  of that command's JSON output. An object with an ``id`` must equal the object with that
  id in the output; any other object's keys and values must all be found in one object
  of the output.
- The figures table of story-agency.md (header ``| as of | events | ...``) is recomputed
  with :func:`contractrules.api.penalty` and by hand.

If the engine's answers change, these tests fail until the docs are updated.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from contractrules import api
from contractrules.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = ("answers.md", "api.md", "cli.md", "semantics.md", "story-agency.md", "documents.md")
STORY = ROOT / "rulesets" / "examples" / "website-care"

#: Rich lays tables out for the terminal width; fix it so the output is reproducible.
CLI_ENV = {"COLUMNS": "80"}


# --------------------------------------------------------------------------- reading the pages


@dataclass(frozen=True)
class Block:
    """A fenced block; ``line`` is its first content line (1-based); ``excerpt_of`` the
    command of an ``<!-- excerpt of: ... -->`` comment just before it, if any."""

    page: str
    info: str
    line: int
    text: str
    excerpt_of: str | None = None

    def __str__(self) -> str:
        return f"docs/{self.page}:{self.line}"


_FENCE = re.compile(r"^```(\S*)\s*$")
_EXCERPT = re.compile(r"^<!--\s*excerpt of:\s*(.+?)\s*-->\s*$")


def read_blocks(page: str) -> list[Block]:
    blocks: list[Block] = []
    info, start, body, excerpt, last = None, 0, [], None, ""
    for number, raw in enumerate((DOCS / page).read_text(encoding="utf-8").splitlines(), start=1):
        if info is None:
            match = _FENCE.match(raw)
            if match:
                comment = _EXCERPT.match(last)
                info, start, body = match.group(1), number + 1, []
                excerpt = comment.group(1) if comment else None
            elif raw.strip():
                last = raw.strip()
        elif raw.strip() == "```":
            blocks.append(Block(page, info, start, "\n".join(body) + "\n", excerpt))
            info, last = None, ""
        else:
            body.append(raw)
    assert info is None, f"docs/{page}: unclosed code block from line {start - 1}"
    return blocks


ALL = [b for page in PAGES if (DOCS / page).exists() for b in read_blocks(page)]


def blocks(info: str, *pages: str) -> list[Block]:
    return [b for b in ALL if b.info == info and (not pages or b.page in pages)]


def ids(items: list[Block]) -> list[str]:
    return [str(b) for b in items]


# --------------------------------------------------------------------------- running commands


def cli_args(command: str) -> list[str]:
    words = shlex.split(command)
    assert words[0] == "contractrules", command
    return words[1:]


def invoke(command: str):
    return CliRunner().invoke(main, cli_args(command), env=CLI_ENV)


@cache
def json_output(command: str):
    result = invoke(command)
    assert result.exit_code == 0, f"{command}: exit {result.exit_code}\n{result.output}"
    return json.loads(result.stdout)


@dataclass(frozen=True)
class Session:
    command: str
    output: list[str]
    exit_code: int


def parse_session(block: Block) -> Session:
    lines = block.text.rstrip("\n").split("\n")
    assert lines[0].startswith("$ contractrules "), f"{block}: a console block starts with '$ contractrules'"
    command, i = lines[0][2:], 1
    while command.endswith("\\"):
        command, i = command[:-1].rstrip() + " " + lines[i].strip(), i + 1
    output, exit_code = [], 0
    while i < len(lines):
        if lines[i].strip() == "$ echo $?":
            exit_code = int(lines[i + 1].strip())
            assert i + 2 == len(lines), f"{block}: '$ echo $?' and its number end the block"
            break
        assert not lines[i].startswith("$ "), f"{block}: one command per console block"
        output.append(lines[i])
        i += 1
    return Session(command, output, exit_code)


def split_json(lines: list[str]) -> tuple[list[str], str | None]:
    """(lines before the JSON document, the JSON text) — or (lines, None) if no JSON."""
    for i, line in enumerate(lines):
        if line.startswith(("{", "[")):
            return lines[:i], "\n".join(lines[i:])
    return lines, None


def _rstripped(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


_FIGURE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d+\.\d{2}\b")


# --------------------------------------------------------------------------- (a) python blocks


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("block", blocks("python"), ids=ids(blocks("python")))
def test_python_block_runs(block, at_root):
    code = compile(block.text, str(block), "exec")
    exec(code, {"__name__": f"docs_{block.page.replace('.md', '').replace('-', '_')}"})  # noqa: S102


# --------------------------------------------------------------------------- (b) console blocks


@pytest.mark.parametrize("block", blocks("console"), ids=ids(blocks("console")))
def test_console_block_shows_the_real_output(block, at_root):
    session = parse_session(block)
    result = invoke(session.command)
    assert result.exit_code == session.exit_code, f"{block}: exit {result.exit_code}\n{result.output}"
    if "--format table" in session.command or "--format=table" in session.command:
        shown, real = "\n".join(session.output), result.output
        assert sorted(set(_FIGURE.findall(shown))) == sorted(set(_FIGURE.findall(real))), real
        return
    before, document = split_json(session.output)
    if document is not None:
        assert json.loads(document) == json.loads(result.stdout), f"{block}: real output:\n{result.stdout}"
        assert [line.rstrip() for line in before] == _rstripped(result.stderr)
    else:
        assert [line.rstrip() for line in session.output] == _rstripped(result.output), result.output


# --------------------------------------------------------------------------- (b') JSON excerpts


def _objects(tree):
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _objects(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _objects(value)


def found_in(tree, excerpt) -> bool:
    if isinstance(excerpt, dict) and "id" in excerpt:
        return any(o.get("id") == excerpt["id"] and o == excerpt for o in _objects(tree))
    if isinstance(excerpt, dict):
        return any(all(k in o and o[k] == v for k, v in excerpt.items()) for o in _objects(tree))
    return excerpt == tree


EXCERPTS = [b for b in ALL if b.excerpt_of is not None]


@pytest.mark.parametrize("block", EXCERPTS, ids=ids(EXCERPTS))
def test_json_excerpt_is_real(block, at_root):
    assert block.info == "json", f"{block}: an excerpt comment must precede a json block"
    excerpt = json.loads(block.text)
    assert found_in(json_output(block.excerpt_of), excerpt), f"{block}: not in the output of `{block.excerpt_of}`"


# --------------------------------------------------------------------------- (c) the story's figures

FIGURES_HEADER = "| as of | events | due | enforceable | enforceable from | days late | interest | fixed fee | total |"


def figure_rows() -> list[dict[str, str]]:
    page = DOCS / "story-agency.md"
    text = page.read_text(encoding="utf-8").splitlines() if page.exists() else []
    if FIGURES_HEADER not in text:
        return []  # test_every_excerpt_and_figure_is_found fails
    start = text.index(FIGURES_HEADER)
    names = [c.strip() for c in FIGURES_HEADER.strip("|").split("|")]
    rows = []
    for line in text[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(names, (c.strip() for c in line.strip().strip("|").split("|")), strict=True)))
    return rows


def story_events(spec: str) -> list[dict]:
    events = [json.loads(line) for line in (STORY / "events.jsonl").read_text().splitlines() if line.strip()]
    if spec == "all":
        return events
    match = re.fullmatch(r"without ((?:e\d+)(?:, e\d+)*)", spec)
    assert match, f"events column: 'all' or 'without eNN[, eNN]', got {spec!r}"
    dropped = set(match.group(1).split(", "))
    assert dropped <= {e["id"] for e in events}
    return [e for e in events if e["id"] not in dropped]


def _date(cell: str) -> date | None:
    return None if cell in ("—", "-", "null") else date.fromisoformat(cell)


def _plain(cell: str) -> str:
    return cell.replace("**", "").strip()


ROWS = figure_rows()


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['as of']} {r['events']}" for r in ROWS])
def test_story_figures_are_the_engines(row, at_root):
    row = {k: _plain(v) for k, v in row.items()}
    as_of = date.fromisoformat(row["as of"])
    answer = api.penalty(STORY / "contract.yaml", story_events(row["events"]), "INV-2025-07", as_of)
    assert answer.due == date.fromisoformat(row["due"])
    assert answer.enforceable == {"yes": True, "no": False}[row["enforceable"]]
    assert answer.enforceable_from == _date(row["enforceable from"])
    assert (answer.interest, answer.fixed_fee, answer.total) == (row["interest"], row["fixed fee"], row["total"])


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['as of']} {r['events']}" for r in ROWS])
def test_story_figures_by_hand(row):
    # INV-2025-07: 600.00 EUR at 10 % a year, act/365, from the day after the due date.
    row = {k: _plain(v) for k, v in row.items()}
    due, as_of = date.fromisoformat(row["due"]), date.fromisoformat(row["as of"])
    days = max(0, (as_of - due).days)
    assert int(row["days late"]) == days
    interest = (Decimal("600.00") * Decimal("0.10") * days / 365).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert Decimal(row["interest"]) == interest
    assert Decimal(row["total"]) == interest + Decimal(row["fixed fee"])


# --------------------------------------------------------------------------- the extraction itself


@pytest.mark.parametrize(
    ("info", "page", "at_least"),
    [
        ("python", "api.md", 7),
        ("python", "semantics.md", 3),
        ("console", "cli.md", 6),
        ("console", "story-agency.md", 4),
        ("console", "answers.md", 3),
        ("console", "documents.md", 2),
        ("python", "documents.md", 3),
    ],
)
def test_pages_keep_their_tested_examples(info, page, at_least):
    # A broken fence parser would find nothing and test nothing.
    assert len(blocks(info, page)) >= at_least


def test_every_excerpt_and_figure_is_found():
    assert len([b for b in EXCERPTS if b.page == "answers.md"]) >= 10
    assert len(ROWS) >= 6


def _example_event_lines() -> set[str]:
    files = (ROOT / "rulesets" / "examples").glob("*/events.jsonl")
    return {line.strip() for f in files for line in f.read_text(encoding="utf-8").splitlines() if line.strip()}


def test_no_untested_example_blocks():
    # Every console block runs a contractrules command, every python block is run, every
    # json block is an excerpt of real output, every jsonl line is a real example event;
    # only ``text`` blocks (formulas, arithmetic) are not run.
    for block in blocks("console"):
        assert block.text.startswith("$ contractrules "), f"{block}: not a contractrules command"
    for block in blocks("json"):
        assert block.excerpt_of is not None, f"{block}: a json block needs an '<!-- excerpt of: ... -->' comment"
    events = _example_event_lines()
    for block in blocks("jsonl"):
        for line in block.text.splitlines():
            assert line.strip() in events, f"{block}: not an event of rulesets/examples/: {line}"
    assert [str(b) for b in ALL if b.info not in {"python", "console", "json", "jsonl", "text"}] == []
