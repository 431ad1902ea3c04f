"""One thread owns a pager: the first to call it (the view's loader thread, in the app)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Owned(Protocol):
    owner: int | None


S = TypeVar("S", bound=Owned)


class WrongThread(RuntimeError):
    """The pager was called from a thread other than the one that owns it."""


def owned(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """Only the owning thread may call this (the first thread to call any such method)."""

    @functools.wraps(method)
    def check(pager: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        me = threading.get_ident()
        if pager.owner is None:
            pager.owner = me
        elif pager.owner != me:
            raise WrongThread(
                f"{type(pager).__name__}.{method.__name__} called off its owner thread"
            )
        return method(pager, *args, **kwargs)

    return check
