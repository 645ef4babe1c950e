"""pyHanko's synchronous API runs `asyncio.run()` internally, which fails in a thread that
already runs an event loop (an ASGI server, a test driving a browser with Playwright's sync
API). `outside_event_loop` runs such a call in a short-lived worker thread in that case.
The calls wrapped here work on bytes only: no database access happens in the worker."""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def outside_event_loop(function: Callable[..., T], *args, **kwargs) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyhanko") as pool:
        return pool.submit(function, *args, **kwargs).result()
