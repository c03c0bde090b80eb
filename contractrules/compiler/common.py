"""Small helpers shared by the clause compilers: rule builders and wording."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from contractrules.money import format_amount


def on_event(event_type: str, **equals: str) -> dict:
    """A durable_rules condition matching one event type (and equal fields)."""
    tests = [{"type": event_type}] + [{k: v} for k, v in sorted(equals.items())]
    return {"all": [{"m": {"$and": tests} if len(tests) > 1 else tests[0]}]}


def on_clock(kind: str) -> dict:
    """A condition matching the synthetic clock event ``kind`` (a deadline reached)."""
    return {"all": [{"m": {"$and": [{"type": "clock"}, {"kind": kind}]}}]}


def rule(condition: dict, action: str) -> dict:
    return {**condition, "run": action}


def money(amount: Decimal | None, currency: str) -> str:
    return "nothing" if amount is None else f"{format_amount(amount, currency)} {currency}"


def iso(day: date | None) -> str:
    return day.isoformat() if day else "—"


def ev(event_id: str | None) -> str:
    return f" (event {event_id})" if event_id else ""


def pct(rate: Decimal) -> str:
    """0.1015 → '10.15%'."""
    return f"{(rate * 100).normalize():f}%"
