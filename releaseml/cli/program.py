"""The `releaseml` command: invoke's `Program` over the task collection (invoke's documented way to
ship a task-based CLI), so `releaseml --list`, `releaseml --help TASK` and `releaseml TASK` work
from any folder, with invoke's conventions.
"""

from __future__ import annotations

import difflib
import re

from invoke import Exit, ParseError, Program

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

    def parse_cleanup(self) -> None:
        """`releaseml --help chek` is parsed here: said as below too."""
        try:
            super().parse_cleanup()
        except ParseError as exc:
            raise ParseError(self._explained(str(exc))) from None

    def parse_tasks(self) -> None:
        """invoke's "No idea what 'X' is!" said as releaseml's other mistakes are, with the nearest
        task or option and where to look."""
        try:
            super().parse_tasks()
        except ParseError as exc:
            raise ParseError(self._explained(str(exc))) from None

    def _explained(self, message: str) -> str:
        unknown = re.fullmatch(r"No idea what '(.*)' is!", message)
        if not unknown:
            return f"error: {message}"
        word = unknown.group(1)
        task = next((w for w in self.core.unparsed if w in namespace.task_names), None)
        if not word.startswith("-"):
            names = sorted(namespace.task_names)
            # after a task, a stray word is more often a value (a file) than a second task: guess only when close
            cutoff = 0.5 if task is None else 0.8
            near = difflib.get_close_matches(word, names, n=3, cutoff=cutoff) or [n for n in names if word in n and task is None][:3]
            if near:
                return f"error: releaseml has no task {word!r}; did you mean {' or '.join(near)}? `releaseml --list` lists them."
            if task is not None:
                return f"error: {word!r} is neither a task nor the value of one of {task}'s options: `releaseml --help {task}` lists them."
            return f"error: releaseml has no task {word!r}: `releaseml --list` lists them."
        if task is None:
            return f"error: unknown option {word!r}: `releaseml --help` lists releaseml's own options."
        flags = list(self.parser.contexts[task].flags) if hasattr(self, "parser") else []
        near = difflib.get_close_matches(word, flags, n=2, cutoff=0.75)  # every option shares its "--"
        hint = f"; did you mean {' or '.join(near)}?" if near else ":"
        return f"error: {task} has no option {word!r}{hint} `releaseml --help {task}` lists its options."


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
