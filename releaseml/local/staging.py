"""Lay a config and data into a local /opt/ml the way SageMaker would before it runs `train`.

Channel directories that releaseml fills carry a marker file; a channel that
holds files releaseml did not put there is never emptied.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Optional

from releaseml.common import media
from releaseml.common.errors import UserError
from releaseml.common.layout import STAGED_MARKER, TRAINING_CHANNELS, VALIDATION_CHANNEL, MLPaths
from releaseml.config import hyperparameters
from releaseml.config.config_file import Config
from releaseml.data import data_paths

MARKER = STAGED_MARKER  # a channel holding it was filled by releaseml (and names the sources)
CHANNEL_CONFIG = {
    "ContentType": media.CSV,
    "TrainingInputMode": "File",
    "S3DistributionType": "FullyReplicated",
    "RecordWrapperType": "None",
}
RESOURCE_CONFIG = {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"}


def stage_training(paths: MLPaths, config: Config, data: Optional[Path], validation: Optional[Path]) -> None:
    """Write hyperparameters and channel configs, and copy data in when it lives elsewhere.

    With no `data`, the training channel already in the ML root is used as it is. A file that cannot
    be read or written (a read-only folder, a full disk) is named in one line, not a traceback.
    """
    try:
        _stage(paths, config, data, validation)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise UserError(
            f"cannot lay the config and data into the ML root {str(paths.root)!r} ({where}{exc.strerror or exc}); "
            "check that the data files can be read, and pass an --ml-root you can write (e.g. --ml-root test_dir)"
        ) from None


def _stage(paths: MLPaths, config: Config, data: Optional[Path], validation: Optional[Path]) -> None:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    _write_json(paths.hyperparameters, hyperparameters.for_training(config))
    _write_json(paths.resource_config, RESOURCE_CONFIG)

    if data is not None:
        found = _channels_at(data, paths)
        for other in TRAINING_CHANNELS[1:]:
            _clear_channel(paths.channel(other))
        training = next(files for name, files in found.channels.items() if name in TRAINING_CHANNELS)
        _fill_channel(paths.channel(TRAINING_CHANNELS[0]), data, training)
        if validation is None and VALIDATION_CHANNEL in found.channels:
            _fill_channel(paths.channel(VALIDATION_CHANNEL), data / VALIDATION_CHANNEL, found.channels[VALIDATION_CHANNEL])
        elif validation is None:
            _clear_channel(paths.channel(VALIDATION_CHANNEL))
    if validation is not None:
        found = _channels_at(validation, paths)
        if len(found.channels) > 1:
            raise UserError(f"--validation {validation} holds training/ and validation/ directories; point it at the validation files only")
        _fill_channel(paths.channel(VALIDATION_CHANNEL), validation, next(iter(found.channels.values())))

    training_channel = paths.training_channel()
    if not training_channel.is_dir():
        raise UserError(f"no training data: {training_channel} does not exist. Pass --data FILE_OR_DIR or set `data:` in the config.")
    channels = [training_channel.name] + ([VALIDATION_CHANNEL] if paths.channel(VALIDATION_CHANNEL).is_dir() else [])
    _write_json(
        paths.input_data_config,
        {
            name: {**CHANNEL_CONFIG, "ContentType": data_paths.content_type(data_paths.channel_files(paths.channel(name)))}
            for name in channels
        },
    )


def _channels_at(source: Path, paths: MLPaths) -> data_paths.DataChannels:
    """The channels at a data path by the rule deploy uses too (`data_paths.data_channels`)."""
    if not source.exists():
        raise UserError(f"data not found: {str(source)!r} is neither a file nor a directory")
    if source.is_dir() and paths.root.resolve().is_relative_to(source.resolve()):
        raise UserError(f"--data {source} contains the ML root {paths.root}; point it at the data files only")
    found = data_paths.data_channels(source)
    if found.note():
        print(found.note(), flush=True)
    return found


def _fill_channel(channel: Path, source: Path, files: dict[str, Path]) -> None:
    if channel.exists() and source.is_dir() and channel.resolve() == source.resolve():
        return  # the data already sits in the channel
    _clear_channel(channel)
    channel.mkdir(parents=True, exist_ok=True)
    for name, file in files.items():
        (channel / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, channel / name)
    note = {
        "note": "Filled by releaseml from a copy of the data; safe to delete.",
        "sources": {n: str(f.resolve()) for n, f in files.items()},
    }
    (channel / MARKER).write_text(json.dumps(note, indent=2) + "\n", encoding="utf-8")


def _clear_channel(channel: Path) -> None:
    if not channel.exists():
        return
    if any(channel.iterdir()) and not (channel / MARKER).exists():
        raise UserError(
            f"{channel} holds files that releaseml did not put there, and will not delete them. "
            "Move them away, or choose another --ml-root."
        )
    shutil.rmtree(channel)


def _write_json(path: Path, content: dict) -> None:
    path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
