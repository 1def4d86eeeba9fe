"""This repository's `invoke TASK`: the same collection as the installed `releaseml` command.

The tasks live in the package (releaseml/cli/); `invoke --list` shows them, `invoke --help TASK`
explains one.
"""

from releaseml.cli.collection import namespace  # noqa: F401 (invoke looks for `namespace`)
