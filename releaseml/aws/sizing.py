"""Will the training data fit the training instance? Estimated from the table's size before a job is paid for.

Peak memory of training (the whole process: the typed table, CatBoost's pools and its working
memory) grows with the table's cells, rows x columns. benchmarks/training.py measures it; the rule
below is fitted to those figures, rounded up:

    peak MB ~= BASE_MB + rows x columns x BYTES_PER_CELL / 1e6

A job whose estimate exceeds its instance's memory would be killed by the kernel after minutes of
paid start-up, with a bare "OutOfMemory" for a reason; `deploy` stops before that, naming the
smallest instance of the same family that fits (`--force` goes ahead anyway).
"""

from __future__ import annotations

from typing import Optional

# benchmarks/training.py, 200,000 and 800,000 rows x 21 columns: CSV 637 and 1,538 MB (72 bytes per
# cell above 337 MB), Parquet 638 and 1,609 MB (77 bytes per cell above 314 MB); before the reading
# of commit 2668af1, 95 bytes above 272 MB. Kept, rounded up from the larger:
BASE_MB = 400  # Python, pandas, CatBoost and pyarrow loaded, the report's libraries
BYTES_PER_CELL = 100
# SageMaker training instances' memory (GiB), by family, smallest first: AWS's published sizes.
FAMILIES: dict[str, list[tuple[str, int]]] = {
    "m5": [("large", 8), ("xlarge", 16), ("2xlarge", 32), ("4xlarge", 64), ("12xlarge", 192), ("24xlarge", 384)],
    "m6i": [("large", 8), ("xlarge", 16), ("2xlarge", 32), ("4xlarge", 64), ("8xlarge", 128), ("16xlarge", 256), ("32xlarge", 512)],
    "c5": [("xlarge", 8), ("2xlarge", 16), ("4xlarge", 32), ("9xlarge", 72), ("18xlarge", 144)],
    "r5": [("large", 16), ("xlarge", 32), ("2xlarge", 64), ("4xlarge", 128), ("12xlarge", 384), ("24xlarge", 768)],
}
USABLE_SHARE = 0.9  # SageMaker's agents and the OS keep some of an instance's memory


def estimate_mb(rows: int, columns: int) -> float:
    return BASE_MB + rows * columns * BYTES_PER_CELL / 1e6


def memory_gib(instance_type: str) -> Optional[int]:
    """An instance type's memory, or None for a type this table does not know (then no check)."""
    family, size = _parts(instance_type)
    return dict(FAMILIES.get(family, [])).get(size)


def too_small(rows: int, columns: int, instance_type: str) -> Optional[str]:
    """Why the instance is clearly too small for this table (a sentence naming one that fits), or None."""
    have = memory_gib(instance_type)
    need_mb = estimate_mb(rows, columns)
    if have is None or need_mb <= have * 1024 * USABLE_SHARE:
        return None
    family, _ = _parts(instance_type)
    fits = next((f"ml.{family}.{size}" for size, gib in FAMILIES[family] if need_mb <= gib * 1024 * USABLE_SHARE), None)
    fits = fits or next((f"ml.r5.{size}" for size, gib in FAMILIES["r5"] if need_mb <= gib * 1024 * USABLE_SHARE), None)
    suggestion = f"Use {fits} (--instance-type {fits}, or aws.training_instance_type)" if fits else "Sample the data, or split it"
    return (
        f"the training data ({rows:,} rows x {columns} columns) needs about {need_mb / 1024:.1f} GiB of memory to train, and "
        f"{instance_type} has {have} GiB: the job would run out of memory. {suggestion}; --force starts it anyway"
    )


def _parts(instance_type: str) -> tuple[str, str]:
    pieces = instance_type.split(".")
    return (pieces[1], pieces[2]) if len(pieces) == 3 and pieces[0] == "ml" else ("", "")
