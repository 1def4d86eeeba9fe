"""The three tasks a model can learn, and the metrics each reports: names only.

The config validates `tune.objective` against these names, training computes them, and the
report and SageMaker's metric definitions show them; all import them from here.
"""

REGRESSION, BINARY, MULTICLASS = "regression", "binary", "multiclass"

# Our name -> CatBoost's metric spec, per task; the first one is what early stopping watches.
TASK_METRICS = {
    REGRESSION: {"rmse": "RMSE", "mae": "MAE", "r2": "R2"},
    BINARY: {"logloss": "Logloss", "auc": "AUC", "accuracy": "Accuracy", "f1": "F1", "precision": "Precision", "recall": "Recall"},
    MULTICLASS: {
        "logloss": "MultiClass",
        "accuracy": "Accuracy",
        "f1_weighted": "TotalF1:average=Weighted",
        "f1_macro": "TotalF1:average=Macro",
    },
}
