"""The training report: one self-contained HTML page (figures inlined) plus the PNG figures.

Written to /opt/ml/output/data/, so SageMaker keeps it in output.tar.gz and `releaseml train-local`
finds it in the local ML root. Everything shown is computed from the validation rows.
"""

from pathlib import Path

from releaseml.common.layout import FIGURES_DIR, REPORT_FILE  # noqa: F401 (where they live: layout, with every /opt/ml path)


def latest(candidates: list[Path]) -> Path:
    """The newest report among files and directories of reports (searched for report.html)."""
    from releaseml.common.errors import UserError

    found = [p for c in candidates for p in ([c] if c.name == REPORT_FILE else c.rglob(REPORT_FILE)) if p.is_file()]
    if not found:
        raise UserError(
            "no training report yet: `releaseml train-local` writes one into the ML root, `releaseml deploy` downloads one into reports/"
        )
    return max(found, key=lambda p: p.stat().st_mtime)
