"""`python -m releaseml.cli`: the `releaseml` command, for environments without its console script."""

from releaseml.cli.program import main

main()
