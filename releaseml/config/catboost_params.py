"""CatBoost's own parameters: every name CatBoost 1.2 accepts, and the kind of value the common ones take.

The config's `catboost:` section is checked against this before any data is read, so `depht: 6`
gets "did you mean 'depth'?" at once, and `iterations: lots` names the key and what it takes,
instead of CatBoost's C++ message after the data has loaded. The names are CatBoost's estimators'
keyword arguments (tests/test_config.py checks this list against the installed CatBoost); a
parameter not in KINDS takes what CatBoost takes, unchecked here.
"""

from __future__ import annotations

import difflib
import math
from typing import Any

NAMES = frozenset(
    """allow_const_label allow_writing_files approx_on_full_history auto_class_weights bagging_temperature
    best_model_min_trees boost_from_average boosting_type bootstrap_type border_count callback cat_features
    class_names class_weights classes_count colsample_bylevel combinations_ctr counter_calc_method
    ctr_description ctr_history_unit ctr_leaf_count_limit ctr_target_border_count custom_loss custom_metric
    data_partition depth dev_efb_max_buckets dev_score_calc_obj_block_size device_config devices dictionaries
    diffusion_temperature early_stopping_rounds embedding_features eta eval_fraction eval_metric
    feature_border_type feature_calcers feature_weights final_ctr_computation_mode first_feature_use_penalties
    fixed_binary_splits fold_len_multiplier fold_permutation_block gpu_cat_features_storage gpu_ram_part
    grow_policy has_time ignored_features input_borders iterations l2_leaf_reg langevin
    leaf_estimation_backtracking leaf_estimation_iterations leaf_estimation_method learning_rate logging_level
    loss_function max_bin max_ctr_complexity max_depth max_leaves metadata metric_period min_child_samples
    min_data_in_leaf model_shrink_mode model_shrink_rate model_size_reg monotone_constraints mvs_reg
    n_estimators name nan_mode num_boost_round num_leaves num_trees objective od_pval od_type od_wait
    one_hot_max_size output_borders penalties_coefficient per_feature_ctr per_float_feature_quantization
    per_object_feature_penalties pinned_memory_size posterior_sampling random_score_type random_seed
    random_state random_strength reg_lambda rsm sampling_frequency sampling_unit save_snapshot
    scale_pos_weight score_function silent simple_ctr snapshot_file snapshot_interval
    sparse_features_conflict_fraction store_all_simple_ctr subsample target_border task_type text_features
    text_processing thread_count tokenizers train_dir use_best_model used_ram_limit verbose""".split()
)

# kind: ("int", low, high) whole numbers; ("float", low, high, low_open) numbers; ("bool",); ("choice", values);
# ("text",) any text; ("verbose",) a true/false or a whole number >= 0.
_WHOLE = ("int", 1, None)
KINDS: dict[str, tuple] = {
    **dict.fromkeys(["iterations", "n_estimators", "num_boost_round", "num_trees"], _WHOLE),
    **dict.fromkeys(["depth", "max_depth"], ("int", 1, 16)),
    **dict.fromkeys(["border_count", "max_bin"], ("int", 1, 65535)),
    **dict.fromkeys(["early_stopping_rounds", "od_wait", "metric_period", "leaf_estimation_iterations", "snapshot_interval"], _WHOLE),
    **dict.fromkeys(["min_data_in_leaf", "min_child_samples", "max_leaves", "num_leaves", "best_model_min_trees"], _WHOLE),
    **dict.fromkeys(["one_hot_max_size", "max_ctr_complexity", "fold_permutation_block"], ("int", 0, None)),
    "thread_count": ("int", -1, None),
    **dict.fromkeys(["learning_rate", "eta", "scale_pos_weight"], ("float", 0, None, True)),
    **dict.fromkeys(
        ["l2_leaf_reg", "reg_lambda", "random_strength", "bagging_temperature", "model_size_reg", "diffusion_temperature"],
        ("float", 0, None, False),
    ),
    **dict.fromkeys(["rsm", "colsample_bylevel", "subsample"], ("float", 0, 1, True)),
    "fold_len_multiplier": ("float", 1, None, True),
    "od_pval": ("float", 0, 1, False),
    **dict.fromkeys(
        [
            "use_best_model",
            "allow_writing_files",
            "has_time",
            "approx_on_full_history",
            "boost_from_average",
            "langevin",
            "posterior_sampling",
            "save_snapshot",
            "store_all_simple_ctr",
            "silent",
            "allow_const_label",
        ],
        ("bool",),
    ),  # fmt: skip
    "grow_policy": ("choice", ("SymmetricTree", "Depthwise", "Lossguide")),
    "bootstrap_type": ("choice", ("Bayesian", "Bernoulli", "MVS", "Poisson", "No")),
    "boosting_type": ("choice", ("Ordered", "Plain")),
    "auto_class_weights": ("choice", ("None", "Balanced", "SqrtBalanced")),
    "nan_mode": ("choice", ("Min", "Max", "Forbidden")),
    "leaf_estimation_method": ("choice", ("Newton", "Gradient", "Exact", "Simple")),
    "leaf_estimation_backtracking": ("choice", ("No", "AnyImprovement", "Armijo")),
    "od_type": ("choice", ("IncToDec", "Iter")),
    "score_function": ("choice", ("Cosine", "L2", "NewtonCosine", "NewtonL2")),
    "logging_level": ("choice", ("Silent", "Verbose", "Info", "Debug")),
    "task_type": ("choice", ("CPU", "GPU")),
    "sampling_unit": ("choice", ("Object", "Group")),
    "model_shrink_mode": ("choice", ("Constant", "Decreasing")),
    "feature_border_type": ("choice", ("Median", "Uniform", "UniformAndQuantiles", "MaxLogSum", "MinEntropy", "GreedyLogSum")),
    **dict.fromkeys(["loss_function", "objective", "eval_metric", "snapshot_file", "name"], ("text",)),
    "verbose": ("verbose",),
}


def problems(params: dict[str, Any]) -> list[str]:
    """One sentence per CatBoost parameter that is not one, or whose value is not of its kind."""
    found = []
    for name, value in params.items():
        if name not in NAMES:
            hint = difflib.get_close_matches(name, sorted(NAMES), n=1)
            found.append(
                f"catboost.{name}: not a CatBoost parameter."
                + (f" Did you mean {hint[0]!r}?" if hint else "")
                + " See https://catboost.ai/docs/en/references/training-parameters/"
            )
        elif name in KINDS and (wanted := _mismatch(KINDS[name], value)):
            found.append(f"catboost.{name}: got {value!r}; it takes {wanted}")
    return found


def _mismatch(kind: tuple, value: Any) -> str | None:
    """What the value should be, or None when it fits."""
    name = kind[0]
    if name == "int":
        low, high = kind[1], kind[2]
        wanted = f"a whole number{_bounds(low, high)}"
        fits = isinstance(value, int) and not isinstance(value, bool) and (low is None or value >= low) and (high is None or value <= high)
        return None if fits else wanted
    if name == "float":
        low, high, open_low = kind[1], kind[2], kind[3]
        wanted = f"a number{' above' if open_low else ' of at least'} {low:g}" + (f" and at most {high:g}" if high is not None else "")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            return wanted
        too_low = value <= low if open_low else value < low
        return wanted if too_low or (high is not None and value > high) else None
    if name == "bool":
        return None if isinstance(value, bool) else "true or false"
    if name == "choice":
        return None if value in kind[1] else "one of " + ", ".join(kind[1])
    if name == "text":
        return None if isinstance(value, str) and value.strip() else "text (a name CatBoost knows)"
    if name == "verbose":
        fits = isinstance(value, bool) or (isinstance(value, int) and value >= 0)
        return None if fits else "true, false, or how often to log (a whole number of trees, e.g. 100)"
    return None


def _bounds(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f" from {low} to {high}"
    return f" of at least {low}" if low is not None else ""
