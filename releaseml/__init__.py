"""releaseml: CatBoost models on tabular data from one config file, locally or on SageMaker.

`releaseml.train`, `releaseml.load` and `releaseml.runs` are the Python API (`releaseml.api`),
loaded on first use so that the command line and the container start without pandas or CatBoost.
"""

__version__ = "0.1.0"
__all__ = ["train", "load", "runs"]


def __getattr__(name: str):
    if name in __all__:
        from releaseml import api

        return getattr(api, name)
    raise AttributeError(f"module 'releaseml' has no attribute {name!r}")
