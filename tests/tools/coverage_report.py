"""After `tox` ran every environment: combine their coverage, print the total, the files below 85%,
and every place that raises a user's error (UserError and its kinds) that no test reached.

    python tests/tools/coverage_report.py [--fail-under 90]

Exit 1 when the total is under --fail-under. Child processes (servers, `invoke` tasks, `train`)
are measured too (coverage's `patch = subprocess`); code run inside a Docker container is not.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import coverage

REPO = Path(__file__).resolve().parents[2]
USER_ERRORS = {"UserError", "BadValue", "CsvError", "RequestError", "StillRunning"}
FILE_THRESHOLD = 85.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fail-under", type=float, default=90.0)
    args = parser.parse_args()
    cov = coverage.Coverage(config_file=str(REPO / "setup.cfg"))
    if list(REPO.glob(".coverage.*")):  # the environments' data, not combined yet
        cov.combine(keep=False)
        cov.save()
    else:  # combined by an earlier report: read it again
        cov.load()
    total = cov.report(show_missing=False, skip_covered=True, skip_empty=True, file=open("/dev/null", "w"))
    data = cov.get_data()
    low = []
    for filename in sorted(data.measured_files()):
        analysis = cov.analysis2(filename)
        statements, missing = len(analysis[1]), len(analysis[3])
        if statements and 100 * (statements - missing) / statements < FILE_THRESHOLD:
            low.append((Path(filename).relative_to(REPO), 100 * (statements - missing) / statements))
    print(f"\nCoverage over all environments: {total:.1f}% of lines and branches (target {args.fail_under:g}%).")
    print("Files below 85%:" if low else "No file is below 85%.")
    for name, percent in low:
        print(f"  {percent:5.1f}%  {name}")
    unreached = [site for site in raise_sites() if not _executed(data, *site)]
    print(f"User-error raise sites no test reached: {len(unreached)} of {len(list(raise_sites()))}")
    for filename, line, text in unreached:
        print(f"  {Path(filename).relative_to(REPO)}:{line}  {text}")
    return 0 if total >= args.fail_under else 1


def raise_sites():
    """(file, line, source) of each `raise X(...)` whose X is one of the user-error classes."""
    for path in sorted((REPO / "releaseml").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                name = node.exc.func.attr if isinstance(node.exc.func, ast.Attribute) else getattr(node.exc.func, "id", "")
                if name in USER_ERRORS:
                    yield str(path), node.lineno, ast.unparse(node.exc)[:90]


def _executed(data, filename: str, line: int, _text: str) -> bool:
    lines = data.lines(filename) or []
    return line in lines


if __name__ == "__main__":
    sys.exit(main())
