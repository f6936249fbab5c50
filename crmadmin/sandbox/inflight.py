"""How many of the 20 CRM calls this sandbox process is answering right now, and the
most it answered at once since the last ``reset()``: the job tests check with it that a
job never has more than its limit of calls in flight."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_current = 0
_peak = 0


@contextmanager
def counted() -> Iterator[None]:
    global _current, _peak
    with _lock:
        _current += 1
        _peak = max(_peak, _current)
    try:
        yield
    finally:
        with _lock:
            _current -= 1


def peak() -> int:
    return _peak


def reset() -> None:
    global _peak
    with _lock:
        _peak = _current
