"""The Prefect API a run reports to, up before the run needs it.

With PREFECT_API_URL set (a long-running `prefect server start`, see the README), runs use
that server and this does nothing. Without it every process starts Prefect's ephemeral API
server, a subprocess that takes seconds to come up; `start_early` starts it in a thread
while the CLI checks the sources and the target, instead of after them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


def start_early() -> Callable[[], None]:
    """Start the ephemeral API server in the background if no API is configured; returns a
    function that waits until it is up (a failure surfaces when the flow starts it again)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return _nothing
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the instance Prefect's get_client() starts and reuses

    def start() -> None:
        try:
            server.start()
        except Exception:  # noqa: BLE001 - the flow's own start raises it with context
            pass

    thread = threading.Thread(target=start, name="prefect-api-start", daemon=True)
    thread.start()
    return thread.join


def _nothing() -> None:
    return None
