"""The reference for benchmarks/training.py: training a CatBoost model the plain way.

    python benchmarks/catboost_direct.py DATA.csv|DATA.parquet ITERATIONS [EARLY_STOPPING_ROUNDS]

pandas reads the file, text columns become strings (CatBoost needs them so), 20% of the rows
are held out for early stopping, and CatBoost fits with the parameters releaseml uses by default.
Each step's wall and CPU seconds are printed as `#direct stage NAME: wall W s, CPU C s` (timing
only: the steps are what a user would write).
"""

import sys
import time

t_wall, t_cpu = time.perf_counter(), time.process_time()


def stage(name: str) -> None:
    global t_wall, t_cpu
    print(f"#direct stage {name}: wall {time.perf_counter() - t_wall:.2f} s, CPU {time.process_time() - t_cpu:.2f} s", flush=True)
    t_wall, t_cpu = time.perf_counter(), time.process_time()


import numpy as np  # noqa: E402 (the imports are a step of their own)
import pandas as pd  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from catboost import CatBoostClassifier, Pool  # noqa: E402

stage("imports")
path, iterations = sys.argv[1], int(sys.argv[2])
early_stopping = int(sys.argv[3]) if len(sys.argv) > 3 else 100
frame = pq.read_table(path).to_pandas() if path.endswith(".parquet") else pd.read_csv(path)
stage("reading")
target = frame.pop("target")
text = [name for name in frame.columns if not pd.api.types.is_numeric_dtype(frame[name])]
frame[text] = frame[text].fillna("").astype(str)
held_out = np.random.default_rng(0).random(len(frame)) < 0.2
train = Pool(frame[~held_out], target[~held_out], cat_features=text)
valid = Pool(frame[held_out], target[held_out], cat_features=text)
stage("pools")
model = CatBoostClassifier(iterations=iterations, early_stopping_rounds=early_stopping, random_seed=0, verbose=0, allow_writing_files=False)
model.fit(train, eval_set=valid)
stage("fit")
model.save_model(path + ".cbm")
stage("saving")
