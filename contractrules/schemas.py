"""JSON Schemas of the documents contractrules reads and writes (``contractrules schema``).

Generated from the pydantic models, so they never drift from what the loaders accept:
``contract`` (a contract document, YAML or JSON), ``events`` (one event: a line of a JSON
Lines file, or an item of a JSON array), ``answer`` (SPEC §8) and ``penalty`` (the
``penalty`` command's answer). The contract schema also ships as a file inside the
package (``contract.schema.json``) for editors; a test keeps it equal to the generated one.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from contractrules.errors import InstallError

DIALECT = "https://json-schema.org/draft/2020-12/schema"
FILE = "contract.schema.json"
TITLES = {
    "contract": "contractrules contract document",
    "events": "contractrules event (one JSON Lines line or JSON array item)",
    "answer": "contractrules answer (evaluate --format json)",
    "penalty": "contractrules penalty answer (penalty --format json)",
}


def schema(which: str) -> dict[str, Any]:
    """The JSON Schema of ``contract``, ``events``, ``answer`` or ``penalty``."""
    from contractrules.model import Contract
    from contractrules.model.answers import Answer, PenaltyAnswer
    from contractrules.model.events import event_adapter

    if which == "contract":
        body = Contract.model_json_schema(mode="validation")
    elif which == "events":
        body = event_adapter.json_schema(mode="validation")
    elif which == "answer":
        body = Answer.model_json_schema(mode="serialization")
    elif which == "penalty":
        body = PenaltyAnswer.model_json_schema(mode="serialization")
    else:
        raise ValueError(f"unknown schema {which!r}: one of {', '.join(TITLES)}")
    return {"$schema": DIALECT, **body, "title": TITLES[which]}


def installed_path() -> str:
    """Where the contract schema file is installed (for an editor's modeline or settings)."""
    path = resources.files("contractrules") / FILE
    if not path.is_file():
        raise InstallError(f"{FILE} is missing from the contractrules package: reinstall contractrules")
    return str(path)
