"""The demo project's files (Palmer penguins): `releaseml demo` copies them into a folder."""
