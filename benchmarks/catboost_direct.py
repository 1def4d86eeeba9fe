"""The reference for benchmarks/training.py: training a CatBoost model the plain way.

    python benchmarks/catboost_direct.py DATA.csv|DATA.parquet ITERATIONS [EARLY_STOPPING_ROUNDS]

pandas reads the file, text columns become strings (CatBoost needs them so), 20% of the rows
are held out for early stopping, and CatBoost fits with the parameters releaseml uses by default.
"""

import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from catboost import CatBoostClassifier, Pool

path, iterations = sys.argv[1], int(sys.argv[2])
early_stopping = int(sys.argv[3]) if len(sys.argv) > 3 else 100
frame = pq.read_table(path).to_pandas() if path.endswith(".parquet") else pd.read_csv(path)
target = frame.pop("target")
text = [name for name in frame.columns if not pd.api.types.is_numeric_dtype(frame[name])]
frame[text] = frame[text].fillna("").astype(str)
held_out = np.random.default_rng(0).random(len(frame)) < 0.2
train = Pool(frame[~held_out], target[~held_out], cat_features=text)
valid = Pool(frame[held_out], target[held_out], cat_features=text)
model = CatBoostClassifier(iterations=iterations, early_stopping_rounds=early_stopping, random_seed=0, verbose=0, allow_writing_files=False)
model.fit(train, eval_set=valid)
model.save_model(path + ".cbm")
