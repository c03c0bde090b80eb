"""Packaging glue that pyproject.toml cannot express: ``rulesets/`` ships as ``contractrules.rulesets``.

The repository keeps its data at the top level (``rulesets/statutory/*.yaml``,
``rulesets/examples/``), where users read and edit it; the wheel installs the same files
inside the package, where :mod:`importlib.resources` finds them. Everything else about
the build is declared in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["contractrules", "contractrules.*"]), "contractrules.rulesets"],
    package_dir={"contractrules.rulesets": "rulesets"},
)
