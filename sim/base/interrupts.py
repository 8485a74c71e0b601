"""Stop requests: SIGINT (Ctrl-C) and SIGTERM end a command the same, clean way.

Inside :func:`stop_on_signals` both signals raise an exception in the main thread: SIGINT the
usual :class:`KeyboardInterrupt`, SIGTERM :class:`Terminated` (a subclass, so every ``except
KeyboardInterrupt`` cleanup runs for both). A batch run then terminates its workers, writes a
manifest that matches the chunk files on disk (status ``interrupted``) and the command exits
with 128 + the signal number: 130 for SIGINT, 143 for SIGTERM. ``corridor-sim resume DIR``
finishes the run with results identical to an uninterrupted one.

Only the command line installs these handlers; :func:`sim.run` used as a library leaves the
host program's signal handling alone.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like a Ctrl-C so that the same cleanup runs."""

    signum = signal.SIGTERM


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


RESEND_DELAY_S = 0.01
"""How long after a dropped stop request it is sent again (see :func:`_redeliver_stops`)."""


def _stop_signal(exc_type: type[BaseException]) -> int:
    return signal.SIGTERM if issubclass(exc_type, Terminated) else signal.SIGINT


def _send_later(signum: int) -> None:
    """Send ``signum`` to this process after :data:`RESEND_DELAY_S`, from a timer thread."""
    timer = threading.Timer(RESEND_DELAY_S, os.kill, (os.getpid(), signum))
    timer.daemon = True
    try:
        timer.start()
    except RuntimeError:  # interpreter shutting down: the process is ending anyway
        pass


def _redeliver_stops(previous_hook: Any) -> Any:
    """Return an unraisable-exception hook that re-sends a stop request Python had to drop.

    A signal's handler runs between two bytecodes of the main thread, which may be inside a
    finaliser (``__del__``, a weakref callback, a garbage-collector pass). An exception raised
    there cannot propagate: Python prints it as "Exception ignored in ..." and goes on, so the
    stop would be lost and the run would finish with a traceback on screen. This hook prints
    nothing for a stop request and sends the signal again a little later from a timer thread,
    when the finaliser has returned (sent at once, its handler would run inside this hook,
    another place an exception cannot leave). On a loaded machine the timer may still fire
    before the hook returns: the stop it raises here is caught and sent again, until one is
    sent with nothing left to run in the hook but its return. Should it land in a finaliser
    again, the same happens again. Other unraisable exceptions go to ``previous_hook``.
    """

    def hook(unraisable: Any) -> None:
        exc_type = unraisable.exc_type
        if not (isinstance(exc_type, type) and issubclass(exc_type, KeyboardInterrupt)):
            previous_hook(unraisable)
            return
        signum = _stop_signal(exc_type)
        while True:
            try:
                _send_later(signum)
                return
            except KeyboardInterrupt as exc:  # an earlier re-send landed in this hook
                signum = _stop_signal(type(exc))

    return hook


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGINT raises ``KeyboardInterrupt`` and SIGTERM raises ``Terminated``.

    A stop that lands inside a finaliser is raised again outside it (:func:`_redeliver_stops`).
    The previous handlers are restored on exit. Outside the main thread (where Python cannot
    install handlers) the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    previous_hook = sys.unraisablehook
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_terminated)
    sys.unraisablehook = _redeliver_stops(previous_hook)
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


@contextmanager
def shielded() -> Iterator[None]:
    """Hold off SIGINT and SIGTERM while the block runs (cleanup that must not be cut short).

    A stop request that arrives meanwhile is dropped: the block only runs while a stop is
    already under way. Outside the main thread the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, signal.SIG_IGN)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


def stop_behind(exc: BaseException) -> KeyboardInterrupt | None:
    """Return the stop request that caused ``exc``, if one did.

    A signal that lands while an extension module initialises (SciPy's HiGHS, for one) raises
    its ``KeyboardInterrupt`` inside the module's init, which the import machinery reports as
    ``ImportError: initialization failed`` caused by the interrupt.
    """
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, KeyboardInterrupt):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


def exit_code(exc: BaseException) -> int:
    """Return the exit code of a command stopped by ``exc``: 128 + the signal number."""
    if isinstance(exc, Terminated):
        return 128 + int(signal.SIGTERM)
    return 128 + int(signal.SIGINT)


def signal_name(exc: BaseException) -> str:
    """Return ``SIGTERM`` or ``SIGINT`` for a stop request."""
    return "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"
