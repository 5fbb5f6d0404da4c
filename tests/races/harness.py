"""The race harness: start N calls at the same instant and sort what they did.

``race()`` puts every call behind one ``asyncio.Barrier``, so none starts before all are
ready: the calls really overlap (each then awaits the database, Redis or HTTP). ``split()``
sorts the answers into accepted and refused, re-raises anything unexpected, and asserts that
both outcomes occurred — a race test whose calls all won (or all lost) proved nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")


async def race(calls: Iterable[Callable[[], Awaitable[T]]]) -> list[T | BaseException]:
    """Run every call at once (released together by a barrier); results in call order, an
    exception in place of a result for a call that raised."""
    pending = list(calls)
    barrier = asyncio.Barrier(len(pending))

    async def run(call: Callable[[], Awaitable[T]]) -> T:
        await barrier.wait()
        return await call()

    return await asyncio.gather(*(run(c) for c in pending), return_exceptions=True)


def split(
    results: list[Any], *refusals: type[BaseException], both: bool = True
) -> tuple[list[Any], list[BaseException]]:
    """``(accepted, refused)``: results, and exceptions of the ``refusals`` types. Any other
    exception is re-raised. With ``both`` (the default) asserts each list is non-empty."""
    accepted: list[Any] = []
    refused: list[BaseException] = []
    for result in results:
        if isinstance(result, BaseException):
            if not isinstance(result, refusals):
                raise result
            refused.append(result)
        else:
            accepted.append(result)
    if both:
        assert accepted, f"no call was accepted: {refused[:3]}"
        assert refused, f"no call was refused ({len(accepted)} accepted)"
    return accepted, refused


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15) -> None:
    """Wait until ``check()`` is true, polling; fail after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.05)
