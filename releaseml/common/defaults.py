"""Defaults the command line shows in its help, in a module that imports nothing.

`invoke --list` and `invoke --help TASK` read these without loading CatBoost, pandas, boto3 or the
Docker SDK; the modules that use a default import it from here.
"""

CONFIG_FILE = "releaseml.yaml"
LOCAL_ML_ROOT = "test_dir"  # the local /opt/ml of train-local, serve-local and demo
IMAGE = "release-demo"
BASE_IMAGE = "python:3.11-slim"
PORT = 8080  # SageMaker's serving port
SERVER_URL = f"http://localhost:{PORT}"
REPORTS_DIR = "reports"  # deploy and logs unpack each job's report into reports/JOB/
TRAINING_OUTPUT = "training_output.txt"  # deploy's outcome; batch-predict and endpoint read the job from it
TUNING_OUTPUT = "tuning_output.txt"  # tune's outcome on SageMaker: names the best training job, for `--from`
PREDICT_DIR = "data/predict"
PREDICTIONS_DIR = "predictions"
