"""Defaults the command line shows in its help, in a module that imports nothing.

`releaseml --list` and `releaseml --help TASK` read these without loading CatBoost, pandas, boto3 or the
Docker SDK; the modules that use a default import it from here.
"""

CONFIG_FILE = "releaseml.yaml"
LOCAL_ML_ROOT = "test_dir"  # this repository's local /opt/ml (`--ml-root test_dir`)
IMAGE = "release-demo"
BASE_IMAGE = "python:3.11-slim"
PORT = 8080  # SageMaker's serving port
LOCAL_HOST = "127.0.0.1"  # serve-local answers this machine only unless --host opens it
SERVER_URL = f"http://127.0.0.1:{PORT}"
REPORTS_DIR = "reports"  # deploy and logs unpack each job's report into reports/JOB/
TRAINING_OUTPUT = "training_output.txt"  # deploy's outcome; batch-predict and endpoint read the job from it
TUNING_OUTPUT = "tuning_output.txt"  # tune's outcome on SageMaker: names the best training job, for `--from`
PREDICT_DIR = "data/predict"
PREDICTIONS_DIR = "predictions"
DEMO_DIR = "releaseml-demo"  # `releaseml demo` makes its project here
