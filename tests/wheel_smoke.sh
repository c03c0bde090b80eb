#!/usr/bin/env bash
# The package as a user gets it: build the wheel and the sdist, install the wheel in a
# fresh virtual environment in a temporary directory outside the checkout, and there run
# the demo, `penalty` on a contract with `jurisdiction: ES` (checking the figures), the
# rate tables, the schema, and the documented examples (tests/unit/test_docs_examples.py
# and test_docs_answers.py, run against the installed package).
#
#   tests/wheel_smoke.sh [PYTHON]        (called by .ci/run; PYTHON defaults to .venv's)
#
# durable-rules 2.0.28 ships no wheel: it is compiled once with `pip wheel` into
# $WHEEL_CACHE (default .ci-wheels/, reused across runs) and installed from there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PYTHON="${1:-$ROOT/.venv/bin/python}"
WHEEL_CACHE="${WHEEL_CACHE:-$ROOT/.ci-wheels}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
say() { printf '== %s\n' "$*"; }

say "build wheel and sdist"
"$PYTHON" -m build --outdir "$WORK/dist" . >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
WHEEL="$(ls "$WORK"/dist/contractrules-*.whl)"
SDIST="$(ls "$WORK"/dist/contractrules-*.tar.gz)"

say "check what the wheel and the sdist contain"
"$PYTHON" - "$WHEEL" "$SDIST" <<'EOF'
import sys, tarfile, zipfile
wheel, sdist = sys.argv[1], sys.argv[2]
names = set(zipfile.ZipFile(wheel).namelist())
need = ["contractrules/rulesets/statutory/es.yaml", "contractrules/rulesets/statutory/uk.yaml",
        "contractrules/rulesets/statutory/eu.yaml", "contractrules/rulesets/examples/website-care/contract.yaml",
        "contractrules/rulesets/examples/website-care/events.jsonl", "contractrules/contract.schema.json"]
if __import__("os").path.exists("contractrules/py.typed"):  # the package is typed: say so to its users
    need.append("contractrules/py.typed")
missing = [n for n in need if n not in names]
if not any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE") for n in names):
    missing.append("LICENSE in .dist-info")
if any(n.startswith("rulesets/") or n.startswith("tests/") for n in names):
    missing.append("no top-level rulesets/ or tests/ package in the wheel")
members = {m.split("/", 1)[1] for m in tarfile.open(sdist).getnames() if "/" in m}
for n in ["LICENSE", "CHANGELOG.md", "setup.py", "rulesets/statutory/es.yaml", "rulesets/__init__.py",
          "contractrules/contract.schema.json"]:
    if n not in members:
        missing.append(f"sdist: {n}")
if missing:
    sys.exit("missing: " + ", ".join(missing))
print(f"wheel {len(names)} files, sdist {len(members)} files: ok")
EOF

say "durable-rules wheel (built once, cached in $WHEEL_CACHE)"
mkdir -p "$WHEEL_CACHE"
if ! ls "$WHEEL_CACHE"/durable_rules-2.0.28-*.whl >/dev/null 2>&1; then
    "$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$WHEEL_CACHE" "durable-rules==2.0.28"
fi

say "fresh virtual environment in $WORK (outside the checkout)"
"$PYTHON" -m venv "$WORK/venv"
PY="$WORK/venv/bin/python"
"$PY" -m pip install --quiet --find-links "$WHEEL_CACHE" "$WHEEL" pytest "hypothesis>=6.100" "mypy>=2.4,<2.5" 2>&1 \
    | grep -v "^WARNING: Location" || true
"$PY" -m pip show --quiet contractrules >/dev/null
cd "$WORK"   # nothing of the checkout on sys.path from here on
"$PY" - <<'EOF'
import contractrules, pathlib
where = pathlib.Path(contractrules.__file__).resolve()
assert "site-packages" in str(where), where
print("contractrules imported from", where.parent)
EOF

say "demo"
"$PY" -m contractrules.demo >"$WORK/demo.txt"
grep -q "website-care" "$WORK/demo.txt" && grep -q "45.42" "$WORK/demo.txt"

say "penalty on a contract with jurisdiction: ES (statutory regime, 2026 H1 rate)"
cat >"$WORK/es.yaml" <<'EOF'
id: es-2026
parties: {provider: {id: studio}, client: {id: acme}}
timezone: Europe/Madrid
currency: EUR
jurisdiction: ES
start: 2026-01-01
terms:
  payment: {terms_days: 30}
EOF
printf '%s\n' '{"id": "e1", "type": "invoice_issued", "at": "2026-01-15", "by": "studio", "invoice": "F-1", "amount": "1000.00"}' >"$WORK/es.jsonl"
"$WORK/venv/bin/contractrules" penalty "$WORK/es.yaml" "$WORK/es.jsonl" --invoice F-1 --as-of 2026-03-16 --format json >"$WORK/penalty.json"
# due 2026-02-14; interest 15 Feb..16 Mar = 30 days x 1000.00 x 10.15% / 365 = 8.34; EUR 40 (Ley 3/2004 art. 8)
"$PY" - "$WORK/penalty.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
got = (p["due"], p["enforceable"], p["enforceable_from"], p["interest"], p["fixed_fee"], p["total"], p["warnings"])
want = ("2026-02-14", True, "2026-02-15", "8.34", "40.00", "48.34", [])
assert got == want, f"penalty: got {got}, want {want}"
print("penalty F-1:", p["interest"], "+", p["fixed_fee"], "=", p["total"], "EUR")
EOF

say "rates and schema from the installed package"
"$WORK/venv/bin/contractrules" rates ES --format json | "$PY" -c 'import json,sys; t=json.load(sys.stdin)[0]; assert t["table"] == "rulesets/statutory/es.yaml" and t["covers"]["to"] >= "2026-06-30", t'
test -f "$("$WORK/venv/bin/contractrules" schema contract --path)"
"$WORK/venv/bin/contractrules" compile "$WORK/es.yaml" >"$WORK/compiled.json"
if grep -q "$WORK/venv\|site-packages" "$WORK/compiled.json"; then echo "the compiled ruleset embeds a path"; exit 1; fi

say "the installed package is typed: mypy --strict on a program that uses it"
cat >"$WORK/consumer.py" <<'EOF'
from datetime import date

import contractrules as cr

answer = cr.evaluate("es.yaml", "es.jsonl", date(2026, 3, 16))
penalty = answer.penalty("F-1")
total: str | None = None if penalty is None else penalty.total
print(total)
EOF
(cd "$WORK" && "$WORK/venv/bin/mypy" --strict --no-incremental consumer.py && test "$("$PY" consumer.py)" = "48.34")

say "documented examples, against the installed package"
mkdir "$WORK/repo-docs"   # the texts and their tests, without the package's source
cp -r "$ROOT/tests" "$ROOT/docs" "$ROOT/rulesets" "$ROOT/benchmarks" "$ROOT/README.md" "$ROOT/pyproject.toml" "$WORK/repo-docs/"
rm -f "$WORK/repo-docs/rulesets/__init__.py"
cd "$WORK/repo-docs"
PATH="$WORK/venv/bin:$PATH" HYPOTHESIS_PROFILE=ci "$PY" -P -m pytest -q -p no:cacheprovider \
    tests/unit/test_docs_examples.py tests/unit/test_docs_answers.py -o addopts=""
say "wheel smoke test passed"
