"""Wait for a SageMaker job or endpoint with a live status line; stopping the wait never stops the job."""

from __future__ import annotations

import time
from typing import Callable, Optional

from releaseml.common import environment, progress
from releaseml.common.errors import StillRunning, UserError  # noqa: F401 (StillRunning: raised here)

DEFAULT_POLL_SECONDS = environment.AWS_POLL_SECONDS.get()


def wait(
    describe: Callable[[], dict],
    status_key: str,
    done: set[str],
    what: str,
    reattach: str,
    detail_key: Optional[str] = None,
    timeout: Optional[float] = None,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    on_poll: Callable[[], None] = lambda: None,
) -> dict:
    """Poll `describe` until its `status_key` is one of `done`; returns the last description."""
    started, shown = time.monotonic(), None
    with progress.status_line(f"{what}: starting") as line:
        try:
            while True:
                description = describe()
                status = description[status_key]
                detail = description.get(detail_key) if detail_key else None
                text = f"{what}: {status}" + (f" ({detail})" if detail and detail != status else "")
                line.set_description_str(text)
                if line.disable and text != shown:  # no live line (not a terminal): one line per change
                    progress.echo(text)
                shown = text
                on_poll()
                if status in done:
                    return description
                if timeout is not None and time.monotonic() - started >= timeout:
                    raise StillRunning(f"stopped waiting after {timeout:g} s; {what} goes on. {reattach}")
                time.sleep(poll_seconds)
        except KeyboardInterrupt:
            raise StillRunning(f"stopped waiting (Ctrl-C); {what} goes on. {reattach}") from None
