"""Data that ships with contractrules, installed as the package ``contractrules.rulesets``.

Not code: ``statutory/*.yaml`` (late-payment law as dated tables) and ``examples/``
(the bundled example contracts). This file only lets the installer place the folder
inside the package, where ``importlib.resources.files("contractrules.rulesets")`` finds it
(setup.py maps it). See README.md in this folder.
"""
