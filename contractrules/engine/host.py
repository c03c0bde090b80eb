"""The durable_rules backend: one host per engine, sessions allocated safely.

This module and ``engine.py`` are the only places that import durable_rules.

Traps handled here (see docs/design/durable-rules.md):
- durable_rules looks sessions up by a 32-bit FNV-1a hash of the sid only, so two
  contract ids whose hashes collide would share facts. Contract ids never become sids:
  each ruleset has a pool of short numeric sids, checked to be hash-distinct.
- At most 1024 live sessions per ruleset: sids are returned to the pool after each
  contract and their state deleted, so any number of contracts can be evaluated.
- Exceptions inside actions are swallowed by durable_rules: every action is wrapped,
  the first error is kept and re-raised as :class:`EngineError` after the post.
- ``Host`` normally starts two wall-clock timer threads; ``_run`` is disabled.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from durable.engine import Host, MessageNotHandledException

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


class RuleHost(Host):
    """A durable_rules Host without threads, resolving actions from a registry."""

    def __init__(self, actions: dict[str, Action]):
        self._registry = actions
        self._handler: Callable[[str, dict], None] | None = None
        self.error: BaseException | None = None
        super().__init__()

    def _run(self) -> None:  # no wall-clock timer threads
        return None

    def get_action(self, action_name: str) -> Action:
        if action_name not in self._registry:
            raise EngineError(f"the ruleset names an unknown action {action_name!r}")

        def run(c) -> None:
            if self.error is not None or self._handler is None:
                return
            try:
                self._handler(action_name, c.m._d)
            except BaseException as exc:  # noqa: BLE001 - surfaced after the post
                self.error = exc

        return run

    def register(self, name: str, rules: dict) -> None:
        # register_rulesets mutates what it is given (pops "run"): hand it a copy.
        self.register_rulesets({name: copy.deepcopy(rules)})

    def deliver(self, ruleset: str, message: dict, handler: Callable[[str, dict], None]) -> bool:
        """Post one message; run the matching action through ``handler``.

        Returns False when no rule matched. Raises EngineError if the action failed.
        """
        self._handler = handler
        self.error = None
        try:
            self.post(ruleset, message)
        except MessageNotHandledException:
            return False
        finally:
            self._handler = None
        if self.error is not None:
            err, self.error = self.error, None
            if isinstance(err, EngineError):
                raise err
            raise EngineError(f"action failed on {json.dumps(message)}: {err!r}") from err
        return True

    def drop_session(self, ruleset: str, sid: str) -> None:
        self.delete_state(ruleset, sid)

    def close(self) -> None:
        """Delete every registered ruleset from the C engine."""
        import durable_rules_engine

        for rs in self._ruleset_list:
            durable_rules_engine.delete_ruleset(rs._handle)
        self._ruleset_list.clear()
        self._ruleset_directory.clear()
