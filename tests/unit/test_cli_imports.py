"""Start-up cost of the command line (issue 12): what a command imports, in a fresh interpreter.

``import contractrules`` and ``import contractrules.cli`` load no models, compiler, engine,
yaml or optional package; ``contractrules penalty`` loads what answering needs and none of
the store, batch, documents, service, rich (with ``--format json``; rich's progress bars
never), dask, pyarrow or holidays (the contract has no business-day calendar). Timings are
measured by ``python -m benchmarks.live --only cli``, not asserted here.
"""

import json
import subprocess
import sys

import pytest

from contractrules import cli, cli_params, statutory

#: never loaded by the command line's import nor by ``penalty``
OPTIONAL = (
    "contractrules.batch",
    "contractrules.store",
    "contractrules.service",
    "contractrules.documents",
    "rich.progress",
    "dask",
    "distributed",
    "pyarrow",
    "holidays",
    "jinja2",
    "sqlalchemy",
    "fastapi",
)
#: what answering needs, loaded on first use only
ANSWERING = (
    "contractrules.api",
    "contractrules.model",
    "contractrules.compiler",
    "contractrules.engine",
    "contractrules.statutory",
    "contractrules.live",
    "pydantic",
    "yaml",
    "babel",
    "durable",
    "rich",
)

CONTRACT = """\
id: golden-penalty-grace-end
parties:
  provider: {id: studio, name: Studio S.L.}
  client: {id: acme, name: ACME S.A.}
timezone: Europe/Madrid
currency: EUR
start: 2025-09-01
terms:
  payment:
    terms_days: 30
  late_penalty:
    grace_days: 10
    interest:
      annual_rate: "0.12"
      day_count: act/365
      accrues_from: grace_end
"""
EVENTS = (
    '{"id": "i1", "type": "invoice_issued", "at": "2025-09-01", "by": "studio", '
    '"channel": "email", "invoice": "INV-E", "amount": "1500.00"}\n'
)


def loaded(*matching: str, code: str) -> list[str]:
    """The modules named (or inside those named) that ``code`` leaves in sys.modules."""
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m in {matching!r} or m.startswith({tuple(p + '.' for p in matching)!r}))))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def _heavy(names: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [n for n in names if any(n == p or n.startswith(p + ".") for p in prefixes)]


def test_importing_the_command_line_loads_click_and_nothing_heavy():
    names = loaded("contractrules", *OPTIONAL, *ANSWERING, code="import contractrules.cli")
    assert _heavy(names, OPTIONAL + ANSWERING) == []
    small = ["contractrules", "contractrules.cli", "contractrules.cli_common", "contractrules.cli_params"]
    assert names == sorted([*small, "contractrules.errors", "contractrules.limits"])


def test_importing_the_package_loads_a_public_name_on_first_use():
    names = loaded("contractrules", "pydantic", code="import contractrules")
    assert names == ["contractrules"]
    names = loaded("contractrules", "pydantic", code="import contractrules\ncontractrules.ContractError")
    assert names == ["contractrules", "contractrules.errors"]
    names = loaded("contractrules.api", "pydantic", code="from contractrules import evaluate")
    assert "contractrules.api" in names and "pydantic" in names
    # a submodule asked for as an attribute is imported, as when the package imported them all
    code = "import contractrules\nassert contractrules.model.load_contract is contractrules.load_contract"
    assert "contractrules.model" in loaded("contractrules.model", code=code)
    code = "import contractrules\ntry:\n    contractrules.nosuch\nexcept AttributeError:\n    pass\nelse:\n    raise SystemExit(1)"
    assert loaded("contractrules", code=code) == ["contractrules"]


def _penalty(
    tmp_path, fmt: str, command: list[str] | None = None
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``python -m contractrules penalty ...`` (or ``command``) as a user runs it; the modules
    loaded at exit."""
    (tmp_path / "c.yaml").write_text(CONTRACT)
    (tmp_path / "e.jsonl").write_text(EVENTS)
    modules = tmp_path / "modules.json"
    wrapper = (
        "import atexit, json, runpy, sys\n"
        f"atexit.register(lambda: open({str(modules)!r}, 'w').write(json.dumps(sorted(sys.modules))))\n"
        "sys.argv = ['contractrules', *sys.argv[1:]]\n"
        "runpy.run_module('contractrules', run_name='__main__', alter_sys=True)\n"
    )
    args = command or ["penalty", "c.yaml", "e.jsonl", "--invoice", "INV-E", "--as-of", "2025-10-31"]
    args = [*args, "--format", fmt]
    done = subprocess.run([sys.executable, "-c", wrapper, *args], cwd=tmp_path, capture_output=True, text=True)
    return done, json.loads(modules.read_text())


def test_penalty_answers_without_the_optional_packages(tmp_path):
    done, modules = _penalty(tmp_path, "json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    # 1500.00 x 0.12 / 365 a day, for Oct 12..31 (20 days after the grace ends): 9.86
    assert (answer["invoice"], answer["enforceable"], answer["enforceable_from"]) == ("INV-E", True, "2025-10-12")
    assert (answer["interest"], answer["fixed_fee"], answer["total"]) == ("9.86", "0.00", "9.86")
    assert _heavy(modules, (*OPTIONAL, "rich")) == []
    assert "contractrules.api" in modules and "durable" in modules  # it did answer through the engine


def test_evaluate_answers_without_the_optional_packages_either(tmp_path):
    done, modules = _penalty(tmp_path, "json", command=["evaluate", "c.yaml", "e.jsonl", "--as-of", "2025-10-31"])
    assert done.returncode == 0, done.stderr
    assert [p["total"] for p in json.loads(done.stdout)["penalties"]] == ["9.86"]
    assert _heavy(modules, (*OPTIONAL, "rich")) == []


def test_penalty_as_a_table_loads_rich_but_not_its_progress_bars(tmp_path):
    done, modules = _penalty(tmp_path, "table")
    assert done.returncode == 0, done.stderr
    assert "INV-E" in done.stdout and "9.86" in done.stdout
    assert "rich.console" in modules
    assert _heavy(modules, OPTIONAL) == []


def test_penalty_on_bad_input_still_exits_2_with_the_line(tmp_path):
    (tmp_path / "c.yaml").write_text(CONTRACT)
    (tmp_path / "e.jsonl").write_text(EVENTS.replace('"1500.00"', '"1500.001"'))
    bad = subprocess.run(
        [sys.executable, "-m", "contractrules", "penalty", "c.yaml", "e.jsonl", "--invoice", "INV-E"]
        + ["--as-of", "2025-10-31"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("e.jsonl:1 amount")


@pytest.mark.parametrize("name", ["RATES_ENV", "RATES_OVERRIDE_ENV"])
def test_the_rates_variables_are_the_ones_statutory_reads(name):
    # cli_params spells them itself so that the command line does not import the rate tables
    assert getattr(cli_params, name) == getattr(statutory, name)


HELP_PROBE = (
    "import sys\n"
    "from contractrules import cli\n"
    "if sys.argv[1] == 'registered':\n"
    "    for module in sorted(set(cli.LAZY_COMMANDS.values())):\n"
    "        cli._register(module)\n"
    "try:\n"
    "    cli.main(['--help'], prog_name='contractrules')\n"
    "except SystemExit as exc:\n"
    "    assert exc.code == 0, exc.code\n"
    "heavy = " + repr(OPTIONAL + ANSWERING) + "\n"
    "print('loaded:', sorted(m for m in sys.modules if m.startswith(heavy)))\n"
)


@pytest.mark.parametrize("columns", ["52", "160"])
def test_help_lists_every_command_as_when_they_are_imported_and_imports_none(columns):
    import os

    env = {**os.environ, "COLUMNS": columns}
    run = [sys.executable, "-c", HELP_PROBE]
    lazy = subprocess.run([*run, "lazy"], capture_output=True, text=True, check=True, env=env).stdout
    real = subprocess.run([*run, "registered"], capture_output=True, text=True, check=True, env=env).stdout
    lazy_help, lazy_loaded = lazy.rsplit("loaded: ", 1)
    real_help, real_loaded = real.rsplit("loaded: ", 1)
    assert lazy_help == real_help
    assert all(f"  {name} " in lazy_help for name in cli.LAZY_COMMANDS)
    assert lazy_loaded.strip() == "[]"
    assert "contractrules.store" in real_loaded  # the comparison did import the commands


def test_the_listed_help_of_each_optional_command_is_its_own():
    from contractrules.cli import LAZY_COMMANDS, LAZY_HELP, _register, main

    assert set(LAZY_HELP) == set(LAZY_COMMANDS)
    for module in set(LAZY_COMMANDS.values()):
        _register(module)
    for name, listed in LAZY_HELP.items():
        command = main.commands[name]
        assert (command.short_help, command.hidden, command.deprecated) == (None, False, False), name
        assert command.help is not None and command.help.split("\n\n")[0].split() == listed.split(), name
        stand_in = cli.click.Command(name, help=listed)
        for limit in (10, 30, 45, 80, 200):
            assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit), (name, limit)


def test_an_optional_command_whose_package_is_missing_is_neither_listed_nor_run(monkeypatch):
    from click.testing import CliRunner

    monkeypatch.setitem(cli.LAZY_COMMANDS, "ghost", "contractrules.ghost.cli")
    monkeypatch.setitem(cli.LAZY_HELP, "ghost", "Haunt the store.")
    listing = CliRunner().invoke(cli.main, ["--help"])
    assert listing.exit_code == 0 and "  batch " in listing.output
    assert "ghost" not in listing.output
    run = CliRunner().invoke(cli.main, ["ghost"])
    assert run.exit_code == 2 and "No such command 'ghost'" in run.output
