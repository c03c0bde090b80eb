"""Shared test configuration: Hypothesis profiles.

- ``ci`` (default when ``CI`` is set): derandomized, so a CI run is reproducible.
- ``dev`` (default locally): more examples, random seeds, with the example database.
Choose with ``HYPOTHESIS_PROFILE=ci|dev``.
"""

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=150,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=400, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

ROOT = Path(__file__).resolve().parent.parent
