"""releaseml: CatBoost models on tabular data from one config file, locally or on SageMaker."""

__version__ = "0.1.0"
