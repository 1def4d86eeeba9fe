"""The `releaseml` command: invoke's `Program` over the task collection (invoke's documented way to
ship a task-based CLI), so `releaseml --list`, `releaseml --help TASK` and `releaseml TASK` work
from any folder, with invoke's conventions.
"""

from __future__ import annotations

from invoke import Exit, Program

import releaseml
from releaseml.cli.collection import namespace


class ReleasemlProgram(Program):
    """`releaseml` alone lists the tasks and says which config this folder would use."""

    def no_tasks_given(self) -> None:
        from releaseml.local import project

        self.list_tasks()
        found = project.find_config()
        if found:
            print(f"\nConfig: {found}. `releaseml --help TASK` explains a task.")
        else:
            print(f"\nNo {project.CONFIG_FILE} in this folder or above: `releaseml init --data FILE --target COLUMN` makes one.")
        raise Exit


HELP_FLAGS = ("--help", "-h")


def conventional(argv: list[str]) -> list[str]:
    """`releaseml TASK --help` and `releaseml help TASK` mean `releaseml --help TASK`: invoke would
    otherwise take `--help` as the task's positional argument (`score --help` scored a file named so)."""
    words = argv[1:]
    if len(words) >= 2 and words[0] == "help":
        return [argv[0], "--help", *words[1:]]
    if words and words[0] in namespace.task_names and any(word in HELP_FLAGS for word in words[1:]):
        return [argv[0], "--help", words[0]]
    return argv


program = ReleasemlProgram(namespace=namespace, version=releaseml.__version__, name="releaseml", binary="releaseml")


def main() -> None:
    import sys

    try:
        program.run(conventional(sys.argv))
    except BrokenPipeError:  # `releaseml --help score | head`: a closed pipe ends quietly, as Unix tools do
        import os
        import sys

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
