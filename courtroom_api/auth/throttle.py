"""Password guessing is slowed to a stop: failed logins are counted per login name and per client
address in a sliding window, and past the limit further tries are refused (429, Retry-After) until
the oldest failure leaves the window — even with the right password, so guessing gains nothing.

A name is counted in any case, as logins are matched at login (``models.logins``: ``Zhang`` signs in
as ``zhang``, so its failures are ``zhang``'s too).
An administrator lifts a login's lock (``reset``): by unlocking it, setting its password, re-enabling it.

In memory, per server process (one server per court); a restart forgets the counts. Bounded: at most
``MAX_KEYS`` names and addresses are remembered, the least recently failed forgotten first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

MAX_KEYS = 10_000


@dataclass(frozen=True)
class Waits:
    """Seconds until a login may try again: by its name's count, by its address's count (0: free)."""

    login: float
    address: float

    @property
    def longest(self) -> float:
        return max(self.login, self.address)


@dataclass(frozen=True)
class NewLocks:
    """What a failure has just locked (each is audited once, when it locks)."""

    login: bool
    address: bool


def _name(login: str) -> str:
    return f"login:{login.lower()}"


class LoginThrottle:
    def __init__(self, per_login: int = 5, per_address: int = 30, window_s: float = 900.0) -> None:
        self.per_login = per_login
        self.per_address = per_address
        self.window_s = window_s
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, login: str, address: str, now: float | None = None) -> float:
        """Seconds until ``login`` may try again from ``address``; 0 when it may try now."""
        return self.waits(login, address, now).longest

    def waits(self, login: str, address: str, now: float | None = None) -> Waits:
        now = time.monotonic() if now is None else now
        with self._lock:
            return Waits(self._wait(_name(login), self.per_login, now),
                         self._wait(f"address:{address}", self.per_address, now))

    def failed(self, login: str, address: str, now: float | None = None) -> NewLocks:
        """Count a failed login (called only while neither is locked); says what it has just locked."""
        now = time.monotonic() if now is None else now
        with self._lock:
            for key in (_name(login), f"address:{address}"):
                times = self._failures.pop(key, None) or deque()
                times.append(now)
                self._failures[key] = times  # (most recently failed last)
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)
            return NewLocks(self._wait(_name(login), self.per_login, now) > 0,
                            self._wait(f"address:{address}", self.per_address, now) > 0)

    def succeeded(self, login: str) -> None:
        """A right password (while not locked) clears the name's count; the address keeps its own."""
        self.reset(login)

    def reset(self, login: str, now: float | None = None) -> bool:
        """Forget the name's failures (an administrator's unlock); True when it was locked."""
        now = time.monotonic() if now is None else now
        with self._lock:
            locked = self._wait(_name(login), self.per_login, now) > 0
            self._failures.pop(_name(login), None)
        return locked

    def _wait(self, key: str, limit: int, now: float) -> float:
        times = self._failures.get(key)
        if not times:
            return 0.0
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if len(times) < limit:
            return 0.0
        return self.window_s - (now - times[-limit])
