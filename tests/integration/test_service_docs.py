"""The ``sh session`` block of docs/service.md is run, command by command, with curl
against a real server (a fresh SQLite store, a key from ``contractrules tenant create``),
and each output must be the one shown; ``...`` in a shown string stands for any text."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.integration.service_fixtures import ROOT, Server

PAGE = ROOT / "docs" / "service.md"


def session() -> list[tuple[str, str]]:
    """``(command, expected output)`` pairs of the page's ``sh session`` block."""
    text = PAGE.read_text(encoding="utf-8")
    (block,) = re.findall(r"```sh session\n(.*?)```", text, re.S)
    steps: list[list[str]] = []
    command: list[str] | None = None
    for line in block.splitlines():
        if command is not None:  # inside a command: a trailing backslash or an open quote continues it
            command.append(line)
            joined = "\n".join(command)
            if not joined.endswith("\\") and joined.count("'") % 2 == 0:
                steps.append([joined, ""])
                command = None
            continue
        if line.startswith("$ "):
            command = [line[2:]]
            joined = line[2:]
            if not joined.endswith("\\") and joined.count("'") % 2 == 0:
                steps.append([joined, ""])
                command = None
        else:
            steps[-1][1] += line + "\n"
    return [(c, out) for c, out in steps]


def _matches(expected, actual) -> bool:
    if isinstance(expected, str) and isinstance(actual, str) and "..." in expected:
        pattern = ".*".join(re.escape(part) for part in expected.split("..."))
        return re.fullmatch(pattern, actual, re.S) is not None
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(_matches(expected[k], actual[k]) for k in expected)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(_matches(e, a) for e, a in zip(expected, actual, strict=True))
    return expected == actual


def test_the_page_shows_a_whole_session():
    steps = session()
    assert len(steps) == 5
    assert all(cmd.startswith("curl ") for cmd, _ in steps)


def test_the_curl_session_of_docs_service_md(tmp_path):
    if shutil.which("curl") is None:  # .ci/run installs it: in CI this fails
        (pytest.fail if os.environ.get("CI") else pytest.skip)("curl is not installed")
    db = f"sqlite:///{tmp_path / 'billing.db'}"
    run = [sys.executable, "-m", "contractrules"]
    subprocess.run([*run, "db", "init", "--db", db], check=True, capture_output=True, timeout=60)
    created = subprocess.run(
        [*run, "tenant", "create", "acme", "--db", db], capture_output=True, text=True, timeout=60, check=True
    )
    key = created.stdout.strip()
    assert created.stdout == key + "\n"
    server = Server(db, tmp_path / "server.log").start()
    try:
        for command, expected in session():
            command = command.replace("127.0.0.1:8080", f"127.0.0.1:{server.port}")
            done = subprocess.run(
                ["bash", "-c", command],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=60,
                env={"KEY": key, "PATH": "/usr/bin:/bin:/usr/local/bin"},
            )
            assert done.returncode == 0, done.stderr
            try:
                shown = json.loads(expected)
            except json.JSONDecodeError:
                assert done.stdout == expected, command
            else:
                assert _matches(shown, json.loads(done.stdout)), (command, done.stdout)
    finally:
        server.stop()
