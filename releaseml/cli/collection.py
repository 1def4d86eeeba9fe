"""The one task collection: what `releaseml TASK` and, in this repository, `releaseml TASK` run.

The repository's tasks.py imports `namespace` from here, and the installed `releaseml` command is
invoke's own `Program` over it (`releaseml.cli.program`): same tasks, flags and messages by both doors.
"""

from invoke import Collection, Task

from releaseml.cli import aws_tasks, local_tasks, monitor_tasks, project_tasks


def _tasks_of(*modules) -> list[Task]:
    """Every task of the modules, with long option names only: invoke's automatic short flags give
    `-c` to --check in one task and --config in another, and none at all (`--=STRING`) once a task
    runs out of letters; a short flag that means one thing in every task is none."""
    tasks = [value for module in modules for value in vars(module).values() if isinstance(value, Task)]
    for each in tasks:
        each.auto_shortflags = False
    return tasks


namespace = Collection(*_tasks_of(project_tasks, local_tasks, monitor_tasks, aws_tasks))
