"""The durable_rules backend: one host per engine, sessions allocated safely.

This module and ``engine.py`` are the only places that import durable_rules.

Traps handled here (see docs/design/durable-rules.md):
- durable_rules looks sessions up by a 32-bit FNV-1a hash of the sid only, so two
  contract ids whose hashes collide would share facts. Contract ids never become sids:
  each ruleset has a pool of short numeric sids, checked to be hash-distinct.
- At most 1024 live sessions per ruleset: sids are returned to the pool after each
  contract and their state deleted, so any number of contracts can be evaluated.
- Exceptions inside actions are swallowed by durable_rules' ``Host.post``: we run the
  actions ourselves (:meth:`RuleHost.deliver`), so an error abandons the action and is
  raised as :class:`EngineError` at once.
- ``Host`` normally starts two wall-clock timer threads; ``_run`` is disabled.

Speed: :meth:`RuleHost.deliver` drives the C engine directly (assert the event, start
the action, run it, complete and start the next) instead of ``Host.post``, whose Python
layer (JSON round trips of the state, a closure, two wall-clock reads and a state
update per action) cost more than the Rete match itself. Our actions never change the
durable_rules session state, so it is not written back.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import durable_rules_engine
from durable.engine import Host

from contractrules.errors import EngineError

MAX_SESSIONS = 1024  # durable_rules' hard limit of live sids per ruleset


def fnv1a_32(text: str) -> int:
    """The 32-bit FNV-1a hash durable_rules uses to look up sids and message ids."""
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


class SidPool:
    """Hands out sids ``"0"…"1023"`` for one ruleset; each is hash-distinct from the others."""

    def __init__(self, size: int = MAX_SESSIONS):
        sids = [str(i) for i in range(size)]
        if len({fnv1a_32(s) for s in sids}) != len(sids):  # pragma: no cover - a fact of FNV
            raise EngineError("sid pool has an FNV-1a collision")
        self._free = sids[::-1]
        self._live: set[str] = set()

    def acquire(self) -> str:
        if not self._free:
            raise EngineError(f"more than {MAX_SESSIONS} contracts evaluated at once in one ruleset")
        sid = self._free.pop()
        self._live.add(sid)
        return sid

    def release(self, sid: str) -> None:
        self._live.discard(sid)
        self._free.append(sid)

    @property
    def live(self) -> int:
        return len(self._live)


Action = Callable[[Any], None]

# durable_rules reports the next action as '{"<rule name>":{...}}'; with rule names of
# these characters the name is the text between the first two quotes.
_RULE_NAME = re.compile(r"[A-Za-z0-9_.:$-]+")
_OK, _NOT_HANDLED, _OBSERVED = 0, 1, 2


class RuleHost(Host):
    """A durable_rules Host without threads, resolving actions from a registry."""

    def __init__(self, actions: dict[str, Action]):
        self._registry = actions
        self._rule_actions: dict[str, dict[str, str]] = {}  # ruleset -> rule -> action name
        self._handles: dict[str, int] = {}  # ruleset -> C handle
        super().__init__()

    def _run(self) -> None:  # no wall-clock timer threads
        return None

    def get_action(self, action_name: str) -> Action:
        """Checks the name at registration; :meth:`deliver` runs actions itself."""
        if action_name not in self._registry:
            raise EngineError(f"the ruleset names an unknown action {action_name!r}")
        return lambda c: None

    def register(self, name: str, rules: dict) -> None:
        bad = [r for r in rules if not _RULE_NAME.fullmatch(r)]
        if bad:
            raise EngineError(f"rule names must match {_RULE_NAME.pattern}, got {bad!r}")
        # register_rulesets mutates what it is given (pops "run"): hand it a copy.
        self.register_rulesets({name: copy.deepcopy(rules)})
        self._rule_actions[name] = {rule: spec["run"] for rule, spec in rules.items()}
        self._handles[name] = self._ruleset_directory[name]._handle

    def actions_of(self, ruleset: str, registry: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
        """Rule name -> the function its action names in ``registry`` (for :meth:`deliver`)."""
        return {rule: registry[action] for rule, action in self._rule_actions[ruleset].items()}

    def deliver(self, ruleset: str, message: str, actions: dict[str, Callable[..., Any]], run: Any, arg: Any) -> bool:
        """Post one message (JSON text); run each action it fires as ``actions[rule](run, arg)``.

        Returns False when no rule matched. Raises EngineError if an action failed.
        """
        handle = self._handles[ruleset]
        code, state = durable_rules_engine.assert_event(handle, message)
        if code == _NOT_HANDLED:
            return False
        if code != _OK:
            what = "was already observed" if code == _OBSERVED else f"was deferred (code {code})"
            raise EngineError(f"message {message} {what}")
        started = durable_rules_engine.start_action_for_state(handle, state)
        if not started:
            return True
        fired = started[1]
        while fired:
            rule = fired[2 : fired.index('"', 2)]
            try:
                actions[rule](run, arg)
            except BaseException as exc:
                durable_rules_engine.abandon_action(handle, state)
                if isinstance(exc, EngineError) or not isinstance(exc, Exception):  # Ctrl-C stays Ctrl-C
                    raise
                action = self._rule_actions[ruleset][rule]
                raise EngineError(f"action {action} failed on {message}: {exc!r}") from exc
            fired = durable_rules_engine.complete_and_start_action(handle, state)
        return True

    def drop_session(self, ruleset: str, sid: str) -> None:
        self.delete_state(ruleset, sid)

    def close(self) -> None:
        """Delete every registered ruleset from the C engine."""
        for rs in self._ruleset_list:
            durable_rules_engine.delete_ruleset(rs._handle)
        self._ruleset_list.clear()
        self._ruleset_directory.clear()
        self._rule_actions.clear()
        self._handles.clear()
