"""The shell and Python examples of the READMEs and of docs/store.md and docs/batch.md
run as written, from a directory that looks like the repository root.

``sh`` blocks are split into commands (``\\`` continues a line, ``#`` starts a comment);
every ``contractrules ...`` and ``python -m benchmarks.workload ...`` command must exit
0. They run in a temporary directory holding links to ``rulesets/`` and
``benchmarks/``, so relative paths resolve as from the root and the files the examples
create (``billing.db``) land there. Absolute ``/tmp/...`` paths are rewritten into that
directory. ``python`` blocks of the READMEs are executed the same way.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["README.md", "rulesets/README.md", "docs/store.md", "docs/batch.md"]
SLOW = ("--dask",)  # covered by tests/integration/test_batch_dask.py; starting a cluster here adds ~10 s
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)


def blocks(info: str) -> list[tuple[str, str]]:
    out = []
    for page in PAGES:
        text = (ROOT / page).read_text()
        out += [(page, body) for kind, body in _FENCE.findall(text) if kind == info]
    return out


def commands() -> list[tuple[str, str]]:
    found = []
    for page, body in blocks("sh"):
        joined = re.sub(r"\\\n\s*", " ", body)
        for line in joined.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line.startswith(("contractrules ", "python -m benchmarks.workload")) and not any(
                s in line for s in SLOW
            ):
                found.append((page, line))
    return found


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("root")
    for name in ("rulesets", "benchmarks"):
        (d / name).symlink_to(ROOT / name)
    return d


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80"}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_pages_have_examples():
    pages = {page for page, _ in commands()}
    assert pages == {"README.md", "rulesets/README.md", "docs/store.md", "docs/batch.md"}


@pytest.mark.slow
def test_every_shell_example_runs(workdir):
    failures = []
    for page, line in commands():  # in order: the store and batch examples build on each other
        args = shlex.split(line.replace("/tmp/", f"{workdir}/tmp-"))
        if args[0] == "contractrules":
            argv = [sys.executable, "-m", "contractrules", *args[1:]]
        else:
            argv = [sys.executable, *args[1:]]
        result = _run(argv, workdir)
        if result.returncode != 0:
            failures.append(f"{page}: {line}\n  exit {result.returncode}: {result.stderr.strip()[:400]}")
    assert not failures, "\n".join(failures)


def test_readme_python_examples_run(workdir):
    for page, body in blocks("python"):
        if page not in ("README.md", "rulesets/README.md"):
            continue
        result = _run([sys.executable, "-c", body], workdir)
        assert result.returncode == 0, f"{page}:\n{body}\n{result.stderr}"
        if 'answer.penalty("INV-2025-07")' in body:
            assert result.stdout.split() == ["True", "2025-10-01", "45.42"]
