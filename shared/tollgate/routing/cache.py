"""Per-workspace rule sets, cached in process and revalidated against the database.

Every ``check_every_s`` (default 2 s) a cached workspace asks its store for a cheap stamp (rule
count and newest ``updated_at``); only a changed stamp reloads and recompiles the rules. A change
made through any instance is therefore seen by every instance within ``check_every_s`` (the
contract is ≤ 5 s); the instance that made the change invalidates its own entry at once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tollgate.routing.rules import RoutingRule, RuleSet

DEFAULT_CHECK_EVERY_S = 2.0


class RuleStore(Protocol):
    def stamp(self, workspace_id: uuid.UUID) -> Hashable:
        """A value that changes whenever the workspace's rules change (one cheap query)."""
        ...

    def load(self, workspace_id: uuid.UUID) -> Sequence[RoutingRule]: ...


@dataclass
class _Entry:
    rules: RuleSet
    stamp: Hashable
    checked: float


class CachedRules:
    def __init__(
        self,
        store: RuleStore,
        *,
        check_every_s: float = DEFAULT_CHECK_EVERY_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._check_every = check_every_s
        self._monotonic = monotonic
        self._entries: dict[uuid.UUID, _Entry] = {}
        self._lock = threading.Lock()

    def rules_for(self, workspace_id: uuid.UUID) -> RuleSet:
        now = self._monotonic()
        entry = self._entries.get(workspace_id)
        if entry is not None and now - entry.checked < self._check_every:
            return entry.rules
        stamp = self._store.stamp(workspace_id)
        if entry is not None and entry.stamp == stamp:
            entry.checked = now
            return entry.rules
        rules = RuleSet(self._store.load(workspace_id))
        with self._lock:
            self._entries[workspace_id] = _Entry(rules, stamp, now)
        return rules

    def invalidate(self, workspace_id: uuid.UUID | None = None) -> None:
        with self._lock:
            if workspace_id is None:
                self._entries.clear()
            else:
                self._entries.pop(workspace_id, None)
