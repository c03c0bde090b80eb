"""SPEC §6.2 (v2): a due date is never before its invoice date, whatever the roll."""

from __future__ import annotations

from datetime import date

import pytest

from contractrules.compiler.payment import contractual_due


def _params(terms_days: int, roll: str, calendar: str | None = None, business_days: bool = False) -> dict:
    return {"terms_days": terms_days, "business_days": business_days, "calendar": calendar, "roll": roll}


@pytest.mark.parametrize(
    ("issued", "params", "due"),
    [
        # Sat 30 Aug 2025 + 1 = Sun 31 Aug; following is 1 Sep (another month), so
        # modified_following goes back to Fri 29 Aug — before the invoice: it stops at 30 Aug
        (date(2025, 8, 30), _params(1, "modified_following"), date(2025, 8, 30)),
        (date(2025, 8, 30), _params(1, "preceding"), date(2025, 8, 30)),
        (date(2025, 8, 30), _params(1, "following"), date(2025, 9, 1)),
        # Fri 29 Aug + 2 = Sun 31 Aug -> back to Fri 29 Aug: on the invoice date, allowed
        (date(2025, 8, 29), _params(2, "modified_following"), date(2025, 8, 29)),
        # Thu 28 Aug + 2 = Sat 30 Aug -> preceding Fri 29 Aug, after the invoice: rolled as usual
        (date(2025, 8, 28), _params(2, "preceding"), date(2025, 8, 29)),
        # 0 business days from a Saturday is that Saturday; preceding would give Friday
        (date(2025, 8, 30), _params(0, "preceding", business_days=True), date(2025, 8, 30)),
        # ES-CT Easter 2025: Fri 18 .. Mon 21 Apr are holidays or weekend
        (date(2025, 4, 19), _params(2, "preceding", "ES-CT"), date(2025, 4, 19)),
        (date(2025, 4, 16), _params(2, "preceding", "ES-CT"), date(2025, 4, 17)),
    ],
)
def test_a_due_date_is_never_before_its_invoice(issued, params, due):
    assert contractual_due(issued, params) == due
