"""Exceptions with their messages masked: what a flow or task raises, Prefect stores in the
run's state and logs, and an exception raised on reading a value may quote the value."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ..masking import mask_text

F = TypeVar("F", bound=Callable[..., Any])


def masked_errors(fn: F) -> F:
    """`fn`, raising any exception with its message masked (mask_text) and no exception
    chained to it: an exception raised on reading a value may quote the value."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every message may quote input values
            error = masked_exception(exc)
            if error is exc:
                raise
        raise error from None  # outside the handler: the unmasked original is not chained

    wrapper.__prefect_task_source__ = fn  # type: ignore[attr-defined] # Prefect's task key
    return wrapper  # type: ignore[return-value]


def masked_exception(exc: Exception) -> Exception:
    """`exc` itself if its message is masked already and it chains nothing, else one of
    its class (a RuntimeError naming it, where the class takes no lone message) with the
    masked message and the same traceback."""
    text = str(exc)
    masked = mask_text(text)
    chained = exc.__cause__ is not None or (exc.__context__ is not None
                                            and not exc.__suppress_context__)
    if masked == text and not chained and not getattr(exc, "__notes__", None):
        return exc
    try:
        error: Exception = type(exc)(masked)
        if str(error) != masked:
            raise TypeError(type(exc).__name__)
    except Exception:  # noqa: BLE001 - any constructor may refuse a lone message
        error = RuntimeError(f"{type(exc).__name__}: {masked}")
    return error.with_traceback(exc.__traceback__)
