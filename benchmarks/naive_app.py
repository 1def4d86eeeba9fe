"""The reference for benchmarks/serving.py: the usual minimal bring-your-own-container handler.

Falcon + waitress, the body parsed with pandas, CatBoost's predict_proba, the answer
written with pandas. Deliberately plain: it is what releaseml must beat.
"""

import io
import json
import os
from pathlib import Path

import falcon
import pandas as pd
import waitress
from catboost import CatBoost

root = Path(os.environ.get("RELEASEML_ML_ROOT", "/opt/ml")) / "model"
schema = json.loads((root / "schema.json").read_text())
model = CatBoost()
model.load_model(str(root / "model.cbm"))
categorical = [n for n in schema["features"] if schema["kinds"][n] == "categorical"]


class Invocations:
    def on_post(self, req, resp):
        frame = pd.read_csv(io.BytesIO(req.bounded_stream.read()), header=None, names=schema["features"])
        frame[categorical] = frame[categorical].fillna("").astype(str)
        probabilities = model.predict(frame, prediction_type="Probability")
        out = pd.DataFrame(probabilities, columns=schema["classes"])
        out.insert(0, "label", out.idxmax(axis=1))
        resp.text = out.to_csv(index=False, header=False)
        resp.content_type = "text/csv"


class Ping:
    def on_get(self, req, resp):
        resp.text = "ok"


app = falcon.App()
app.add_route("/invocations", Invocations())
app.add_route("/ping", Ping())
waitress.serve(app, host="127.0.0.1", port=int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080")), threads=4, _quiet=True)
