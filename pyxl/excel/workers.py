"""Button scripts and PYXL functions run in worker threads, never on the server's event loop.

xlwings Server awaits a script or function that is a coroutine; these wrappers make
each one a coroutine that hands the work to a thread. A Refresh of thousands of
clients then never holds up a one-cell PYXL.WORKDAY sent while it runs: the event
loop keeps taking requests and each call has its own thread (the evaluation is
numpy and Arrow, which release the GIL for their bulk work). The cyclic garbage
collector is off while one runs, as for the command line: a Refresh makes millions of
small objects and no cycles, and each collection would only rescan them (half its time
at 5,000 clients).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from pyxl.services.sheets import without_cycle_collector

P = ParamSpec("P")
T = TypeVar("T")


def off_loop(work: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """`work` as a coroutine function running it in a worker thread, same signature."""

    @functools.wraps(work)
    async def in_worker(*args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(_collected_after, work, *args, **kwargs)

    return in_worker


def _collected_after(work: Callable[P, T], *args: Any, **kwargs: Any) -> T:
    with without_cycle_collector():
        return work(*args, **kwargs)
