"""Moved to :mod:`contractrules.ledger` (the working state belongs to no layer above it).

Kept so that code written against ``contractrules.engine.runtime`` keeps importing."""

from contractrules.ledger import *  # noqa: F403
from contractrules.ledger import ZERO, Invoice, Payment, Run, WorkingObligation, WorkingViolation  # noqa: F401
