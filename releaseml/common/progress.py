"""Progress bars and live status lines for long work (tqdm), and the switch that silences them.

Bars and narration go to stderr, so what a task prints on stdout stays clean for scripts.
Bars are drawn on terminals only (tqdm's `disable=None`); `RELEASEML_QUIET=1` (or
`set_quiet(True)`, which tasks' `--quiet` calls) hides narration too.
"""

from __future__ import annotations

import sys

from releaseml.common import environment

_quiet = environment.QUIET.get()


def set_quiet(quiet: bool) -> None:
    global _quiet
    _quiet = quiet


def is_quiet() -> bool:
    return _quiet


def bar(total: float | None, description: str, unit: str = "B"):
    """A progress bar for bytes (or other units) moved, with rate and time left."""
    from tqdm import tqdm  # here, not at the top: the command line starts without it

    scale = unit == "B"
    return tqdm(
        total=total,
        desc=description,
        unit=unit,
        unit_scale=scale,
        unit_divisor=1024 if scale else 1000,
        disable=True if _quiet else None,
        file=sys.stderr,
        dynamic_ncols=True,
    )


def status_line(description: str):
    """One line that is rewritten in place: what is going on, and for how long."""
    from tqdm import tqdm

    return tqdm(
        total=None, desc=description, bar_format="{desc} [{elapsed}]", disable=True if _quiet else None, file=sys.stderr, dynamic_ncols=True
    )


def echo(message: str) -> None:
    """Print a line of narration without breaking a bar that is being drawn."""
    if not _quiet:
        from tqdm import tqdm

        tqdm.write(message, file=sys.stderr)
