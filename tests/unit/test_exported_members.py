"""The public API is exactly what ``contractrules.__all__`` lists (sorted), and it works."""

from datetime import date

import pytest

import contractrules
import contractrules.model
import contractrules.store


def test_all_is_sorted_and_complete():
    public = {name for name in vars(contractrules) if not name.startswith("_") and name != "annotations"}
    modules = {name for name in public if type(getattr(contractrules, name)).__name__ == "module"}
    assert contractrules.__all__ == sorted(contractrules.__all__)
    assert set(contractrules.__all__) - {"__version__"} == public - modules


@pytest.mark.parametrize("package", [contractrules.model, contractrules.store], ids=lambda p: p.__name__)
def test_subpackage_all_is_a_sorted_literal_of_real_names(package):
    # a plain sorted list (not sorted(...)), so that linters and type checkers read it
    assert package.__all__ == sorted(package.__all__)
    assert all(hasattr(package, name) for name in package.__all__)


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
