"""The user's project: the folder of its `releaseml.yaml`, found as git finds its repository.

Every task reads the config named by `--config`, else `releaseml.yaml` in the current folder or
the nearest folder above it; the project's outputs (runs, downloaded models) live beside it, in
`.releaseml/`.
"""

from __future__ import annotations

from pathlib import Path

from releaseml.common import defaults
from releaseml.common.errors import UserError

CONFIG_FILE = defaults.CONFIG_FILE
OUTPUT_DIR = ".releaseml"  # runs/, models/: made by releaseml, ignored by the project's .gitignore


class NoConfig(UserError):
    """No config was named and none was found in the folder or above it."""


def find_config(start: Path | None = None) -> Path | None:
    """`releaseml.yaml` in `start` (the current folder) or the nearest folder above it."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / CONFIG_FILE
        if path.is_file():
            return path
    return None


def config_path(given: str | Path | None = None, start: Path | None = None) -> Path:
    """The config a task uses: the one given, else the one found; a NoConfig error says how to make one."""
    if given:
        return Path(given)
    found = find_config(start)
    if found is None:
        raise NoConfig(
            f"no {CONFIG_FILE} in {start or Path.cwd()} or any folder above it: "
            f"`releaseml init --data FILE --target COLUMN` makes one (or pass --config FILE)"
        )
    return _shown(found)


def project_dir(config: Path) -> Path:
    """The project folder: the config file's own."""
    return config.resolve().parent


def output_dir(config: Path) -> Path:
    return project_dir(config) / OUTPUT_DIR


def _shown(path: Path) -> Path:
    """A found path as short as it can be said: relative to the current folder when inside it."""
    try:
        return path.relative_to(Path.cwd().resolve())
    except ValueError:
        return path
