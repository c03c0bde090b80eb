"""The public API is exactly what ``contractrules.__all__`` lists (sorted), and it works."""

from datetime import date

import pytest

import contractrules
import contractrules.model
import contractrules.store


def test_all_is_sorted_and_complete():
    # dir(), not vars(): the public names are imported on first use (contractrules.__getattr__)
    public = {name for name in dir(contractrules) if not name.startswith("_") and name != "annotations"}
    modules = {name for name in public if type(getattr(contractrules, name)).__name__ == "module"}
    assert contractrules.__all__ == sorted(contractrules.__all__)
    assert set(contractrules.__all__) - {"__version__"} == public - modules


@pytest.mark.parametrize("package", [contractrules.model, contractrules.store], ids=lambda p: p.__name__)
def test_subpackage_all_is_a_sorted_literal_of_real_names(package):
    # a plain sorted list (not sorted(...)), so that linters and type checkers read it
    assert package.__all__ == sorted(package.__all__)
    assert all(hasattr(package, name) for name in package.__all__)


def test_the_lazy_names_are_the_ones_type_checkers_read():
    # contractrules/__init__.py names each public object twice: in the TYPE_CHECKING imports
    # (what mypy and IDEs see) and in _LAZY (what runs); they must say the same thing
    import ast
    import importlib
    from pathlib import Path

    tree = ast.parse(Path(contractrules.__file__).read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test))
    imported = {
        alias.asname or alias.name: (node.module, alias.name)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert imported == contractrules._LAZY
    assert set(imported) == set(contractrules.__all__) - {"__version__"}
    for name, (module, attr) in imported.items():
        assert getattr(contractrules, name) is getattr(importlib.import_module(module), attr), name


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'evaluat'"):
        contractrules.evaluat  # noqa: B018
    assert not hasattr(contractrules, "Evaluate")


def test_every_error_derives_from_the_root():
    errors = [getattr(contractrules, n) for n in contractrules.__all__ if n.endswith("Error")]
    assert errors and all(issubclass(e, contractrules.ContractRulesError) for e in errors)


def test_top_level_evaluate_answers():
    contract = {
        "id": "mini",
        "timezone": "UTC",
        "currency": "EUR",
        "start": "2025-01-01",
        "parties": {"provider": {"id": "p"}, "client": {"id": "c"}},
        "terms": {"payment": {"terms_days": 10}},
    }
    events = [{"id": "e1", "type": "invoice_issued", "at": "2025-01-05", "invoice": "A", "amount": "10.00", "by": "p"}]
    answer = contractrules.evaluate(contract, events, date(2025, 1, 20))
    assert isinstance(answer, contractrules.Answer)
    assert [(v.id, v.on) for v in answer.violations] == [("late_payment:A", date(2025, 1, 16))]
