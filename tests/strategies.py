"""Hypothesis strategies shared by the test suite (one module, as STYLE.md asks).

Dates stay in 1900..2199 so month and day arithmetic never leaves ``date``'s range;
business-day dates stay in 2000..2039 so the cached holiday tables stay small.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import strategies as st

from contractrules.dates import CYCLE_MONTHS, OVERFLOW_MODES, ROLL_CONVENTIONS, days_in_month

# --------------------------------------------------------------------------- dates

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2199, 12, 31)

dates = st.dates(min_value=MIN_DATE, max_value=MAX_DATE)
#: Dates near a month end, where month overflow happens; mixed with ordinary dates.
month_end_dates = st.builds(
    lambda y, m, back: date(y, m, days_in_month(y, m) - back),
    st.integers(1900, 2199),
    st.integers(1, 12),
    st.integers(0, 3),
)
interesting_dates = st.one_of(dates, month_end_dates)

overflow_modes = st.sampled_from(OVERFLOW_MODES)
month_offsets = st.integers(min_value=-600, max_value=600)
small_month_offsets = st.integers(min_value=-36, max_value=36)
year_offsets = st.integers(min_value=-50, max_value=50)
day_offsets = st.integers(min_value=-20_000, max_value=20_000)
anchor_days = st.none() | st.integers(min_value=1, max_value=31)
cycles = st.sampled_from(sorted(CYCLE_MONTHS))

# --------------------------------------------------------------------------- business days

BUSINESS_MIN = date(2000, 1, 1)
BUSINESS_MAX = date(2039, 12, 31)

business_dates = st.dates(min_value=BUSINESS_MIN, max_value=BUSINESS_MAX)
calendar_specs = st.sampled_from(["ES", "ES-MD", "GB"])
roll_conventions = st.sampled_from(ROLL_CONVENTIONS)
period_days = st.integers(min_value=0, max_value=120)

# --------------------------------------------------------------------------- money

currencies = st.sampled_from(["EUR", "USD", "GBP", "JPY", "KWD"])


def amounts(max_places: int = 4, max_value: int = 10**9) -> st.SearchStrategy[Decimal]:
    """Non-negative Decimals with up to ``max_places`` decimal places (more than a currency
    has, so rounding is exercised), biased towards exact half-unit ties."""
    plain = st.integers(0, max_value * 10**max_places).flatmap(
        lambda n: st.integers(0, max_places).map(lambda p: Decimal(n).scaleb(-p))
    )
    # x.xx5 / x.x5 / x.5: the ties half-up must round away from zero.
    ties = st.builds(
        lambda n, p: (Decimal(n) + Decimal("0.5")).scaleb(-p),
        st.integers(0, max_value),
        st.integers(0, 3),
    )
    return st.one_of(plain, ties)


def money_amounts(currency: str, max_value: int = 10**9) -> st.SearchStrategy[Decimal]:
    """Non-negative Decimals exact in ``currency``'s minor unit (valid input amounts)."""
    from contractrules.money import minor_units

    places = minor_units(currency)
    return st.integers(0, max_value * 10**places).map(lambda n: Decimal(n).scaleb(-places))


negative_amounts = st.decimals(
    max_value=Decimal("-0.0001"), min_value=Decimal(-(10**9)), allow_nan=False, allow_infinity=False, places=4
)

# --------------------------------------------------------------------------- event streams
# Random but valid event streams for the engine's invariants. The contract is
# tests.engine.conftest.BASE plus a scope clause (see ``stream_contract``).

STREAM_START = date(2025, 1, 1)
_cents = st.integers(min_value=1_00, max_value=2_000_00).map(lambda c: f"{c // 100}.{c % 100:02d}")
_days = st.integers(min_value=0, max_value=240)


def _at(day_offset: int, hour: int | None) -> str:
    from datetime import timedelta

    d = STREAM_START + timedelta(days=day_offset)
    if hour is None:
        return d.isoformat()
    return f"{d.isoformat()}T{hour:02d}:15:00+0{1 if d.month in (1, 2, 3, 11, 12) else 2}:00"


_when = st.tuples(_days, st.none() | st.integers(0, 23)).map(lambda t: _at(*t))


@st.composite
def event_streams(draw) -> list[dict]:
    """A list of event dicts (unique ids) for the stream contract, in a random order."""
    events: list[dict] = []

    def add(kind: str, **fields) -> None:
        events.append({"id": f"e{len(events) + 1:03d}", "type": kind, **fields})

    invoices = [f"INV-{i}" for i in range(draw(st.integers(1, 4)))]
    for inv in invoices:
        add("invoice_issued", at=draw(_when), invoice=inv, amount=draw(_cents), by="studio", channel="email")
    for _ in range(draw(st.integers(0, 5))):
        fields = {"at": draw(_when), "amount": draw(_cents), "by": "acme"}
        target = draw(st.sampled_from([None, "invoice", "invoice", "penalty"]))
        if target is not None:  # an invoice of the stream, or one never issued (held, SPEC §5 v2)
            fields[target] = draw(st.sampled_from([*invoices, "INV-99"]))
        add("payment_received", **fields)
    for _ in range(draw(st.integers(0, 2))):
        add(
            "credit_note",
            at=draw(_when),
            invoice=draw(st.sampled_from(invoices)),
            amount=draw(st.sampled_from(["10.00", "50.00", "100.00"])),
            by="studio",
        )
    if draw(st.booleans()):
        inv = draw(st.sampled_from(invoices))
        opened, length = draw(_days), draw(st.integers(1, 60))
        add("dispute_opened", at=_at(opened, None), invoice=inv, by="acme", channel="email")
        if draw(st.booleans()):
            add("dispute_resolved", at=_at(opened + length, None), invoice=inv, by="studio")
    if draw(st.booleans()):
        add("reminder_sent", at=draw(_when), invoice=draw(st.sampled_from(invoices)), by="studio", channel="letter")
    if draw(st.booleans()):
        add(
            "waiver",
            at=draw(_when),
            by="studio",
            clause="late_penalty.grace",
            invoice=draw(st.sampled_from(invoices)),
            until=_at(draw(_days), None),
        )
    if draw(st.booleans()):
        notice = draw(_days)
        fields = {"at": _at(notice, None), "by": "acme", "channel": draw(st.sampled_from(["email", "phone"]))}
        if draw(st.booleans()):
            fields["effective"] = _at(notice + draw(st.integers(0, 60)), None)
        add("termination_notice", **fields)
        if draw(st.booleans()):
            add("waiver", at=_at(notice + draw(st.integers(0, 5)), None), by="studio", clause="termination.notice")
    for _ in range(draw(st.integers(0, 3))):
        asset = draw(st.sampled_from(["acme.example", "shop.example", "blog.acme.example"]))
        service = draw(st.sampled_from(["malware-removal", "logo-design"]))
        day = draw(_days)
        add(
            "work_requested",
            at=_at(day, None),
            by="acme",
            service=service,
            asset=asset,
            channel=draw(st.sampled_from(["email", "phone", None])),
        )
        if draw(st.booleans()):
            add(
                "work_performed", at=_at(day + draw(st.integers(0, 5)), None), by="studio", service=service, asset=asset
            )
    for e in events:
        if e.get("channel", 0) is None:
            del e["channel"]
    return draw(st.permutations(events))


def stream_contract_data(contract_id: str = "acme-web") -> dict:
    import copy

    from tests.engine.conftest import BASE

    data = copy.deepcopy(BASE)
    data["id"] = contract_id
    data["terms"]["scope"] = {
        "services": [
            {"id": "malware-scan", "every": "cycle", "assets": ["acme.example", "shop.example"]},
            {
                "id": "malware-removal",
                "on_request": {"respond_within_days": 2},
                "assets": ["acme.example", "shop.example"],
            },
        ],
        "excluded_assets": [{"pattern": "*.acme.example", "reason": "subdomains are separate sites"}],
        "change_order_rate": {"amount": "60.00", "per": "hour"},
    }
    return data


as_of_dates = _days.map(lambda n: _at(n, None)).map(date.fromisoformat)


# --------------------------------------------------------------------------- hostile input (issue 15)
#: Replacement tokens a careless or hostile writer puts where a value belongs.
HOSTILE_TOKENS = [
    "9" * 5000,
    "1e999",
    "-1",
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    '"\\ud800"',
    "\x00",
    "\x07",
    "\x1b[31m",
    "\ufeff",
    "\u2028",
    "[" * 200 + "]" * 200,
    "{" * 60,
    '"' + "x" * 3000 + '"',
    "localtime",
    "right/UTC",
    "Europe",
    "1234567890123456789012345678.01",
    "999999999999999.99",
    "null",
    "true",
    "&a [*a]",
    "*undefined",
    '"amount": "1.00", "amount": "2.00"',
    "3000000",
    "\xff",
    "\udcff",
]


@st.composite
def mutated_text(draw, base: str) -> str:
    """``base`` with one to three mutations: a hostile token replacing a span, inserted
    or deleted characters, a line repeated, dropped or swapped, the text truncated."""
    text = base
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["token", "insert", "delete", "dup_line", "drop_line", "truncate", "swap"]))
        n = len(text)
        i = draw(st.integers(0, max(0, n - 1)))
        if kind == "token":
            j = min(n, i + draw(st.integers(0, 12)))
            text = text[:i] + draw(st.sampled_from(HOSTILE_TOKENS)) + text[j:]
        elif kind == "insert":
            text = text[:i] + draw(st.text(min_size=1, max_size=4)) + text[i:]
        elif kind == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 20)) :]
        elif kind == "truncate":
            text = text[:i]
        else:
            lines = text.split("\n")
            k = draw(st.integers(0, max(0, len(lines) - 1)))
            if kind == "dup_line":
                lines.insert(k, lines[k])
            elif kind == "drop_line" and len(lines) > 1:
                del lines[k]
            elif kind == "swap" and len(lines) > 1:
                lines[k], lines[k - 1] = lines[k - 1], lines[k]
            text = "\n".join(lines)
    return text
