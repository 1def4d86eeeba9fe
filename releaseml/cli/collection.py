"""The one task collection: what `releaseml TASK` and, in this repository, `releaseml TASK` run.

The repository's tasks.py imports `namespace` from here, and the installed `releaseml` command is
invoke's own `Program` over it (`releaseml.cli.program`): same tasks, flags and messages by both doors.
"""

from invoke import Collection, Task

from releaseml.cli import aws_tasks, local_tasks, project_tasks


def _tasks_of(*modules) -> list[Task]:
    return [value for module in modules for value in vars(module).values() if isinstance(value, Task)]


namespace = Collection(*_tasks_of(project_tasks, local_tasks, aws_tasks))
