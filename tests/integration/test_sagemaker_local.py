"""A peer client no one here wrote: the SageMaker Python SDK's local mode drives the image.

SDK 2.x, because its local mode (LocalSession, Estimator(instance_type='local'),
estimator.transformer(...)) runs a bring-your-own image through docker compose; 3.x moved
these classes and needs more set-up for the same. Nothing may reach AWS: dummy credentials,
an unroutable proxy for anything not on loopback, telemetry opted out.
"""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from releaseml.config import hyperparameters
from releaseml.data.schema import model_frame
from releaseml.model import bundle

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
DUMMY_ROLE = "arn:aws:iam::111111111111:role/releaseml-local-test"


@pytest.fixture
def offline_aws(monkeypatch, tmp_path):
    config = tmp_path / "sagemaker-config.yaml"
    config.write_text("SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n")
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(config),
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    }.items():
        monkeypatch.setenv(name, value)


def test_sdk_local_mode_trains_and_batch_transforms_with_the_image(tmp_path, built_image, offline_aws):
    from sagemaker.estimator import Estimator
    from sagemaker.local import LocalSession

    training = tmp_path / "training"
    training.mkdir()
    shutil.copy(REPO / "data" / "penguins.csv", training)
    session = LocalSession()
    session.config = {"local": {"local_code": True, "container_root": str(tmp_path / "work")}}
    (tmp_path / "work").mkdir()
    estimator = Estimator(
        image_uri=built_image,
        role=DUMMY_ROLE,
        instance_count=1,
        instance_type="local",
        output_path=f"file://{tmp_path / 'model'}",
        hyperparameters=hyperparameters.flatten({"target": "species", "catboost": {"iterations": 200}}),
        sagemaker_session=session,
    )
    estimator.fit({"training": f"file://{training}"}, logs=False)

    artifact = Path(estimator.model_data.removeprefix("file://"))
    assert artifact.name == "model.tar.gz" and artifact.is_file()
    unpacked = tmp_path / "unpacked"
    shutil.unpack_archive(artifact, unpacked)
    assert sorted(p.name for p in unpacked.iterdir()) == ["model.cbm", "profile.json", "schema.json"]
    assert json.loads((unpacked / "schema.json").read_text())["catboost_params"]["iterations"] == 200

    transformer = estimator.transformer(
        instance_count=1,
        instance_type="local",
        strategy="MultiRecord",
        assemble_with="Line",
        accept="text/csv",
        output_path=f"file://{tmp_path / 'predictions'}",
    )
    transformer.transform(f"file://{REPO / 'data' / 'predict'}", content_type="text/csv", split_type="Line", wait=False, logs=False)
    transformer.wait(logs=False)

    lines = (tmp_path / "predictions" / "penguins.csv.out").read_text().splitlines()
    features = pd.read_csv(REPO / "data" / "predict" / "penguins.csv", header=None)
    model = bundle.load(unpacked)
    expected = model.predict(model_frame(features.set_axis(model.schema.features, axis=1), model.schema)).labels(model.schema.classes)
    assert [line.split(",")[0] for line in lines] == expected
