"""Will the data fit the training instance: the estimate, the sentence, and the instance it names."""

from releaseml.aws import sizing


def test_a_table_that_fits_is_not_questioned():
    assert sizing.too_small(2_000_000, 21, "ml.m5.large") is None  # 4.6 GB estimated: 8 GiB will do
    assert sizing.too_small(10, 3, "ml.m5.large") is None


def test_a_table_too_large_names_the_smallest_instance_of_the_family_that_fits():
    why = sizing.too_small(15_000_000, 30, "ml.m5.large")  # 45.4 GB estimated
    assert why is not None
    assert "15,000,000 rows x 30 columns" in why and "ml.m5.large has 8 GiB" in why
    assert "Use ml.m5.4xlarge" in why and "--force" in why
    assert sizing.too_small(15_000_000, 30, "ml.m5.4xlarge") is None


def test_beyond_a_family_the_memory_optimised_family_is_named_and_beyond_all_sampling():
    assert "Use ml.c5.18xlarge" in sizing.too_small(100_000_000, 10, "ml.c5.2xlarge")  # 100 GB
    assert "Use ml.r5.12xlarge" in sizing.too_small(150_000_000, 10, "ml.c5.2xlarge")  # 150 GB: over c5's largest
    assert "Sample the data" in sizing.too_small(10_000_000_000, 100, "ml.r5.24xlarge")


def test_an_instance_type_it_does_not_know_is_not_checked():
    assert sizing.memory_gib("ml.p4d.24xlarge") is None
    assert sizing.too_small(10**10, 100, "ml.p4d.24xlarge") is None
    assert sizing.memory_gib("local") is None


def test_the_estimate_grows_with_cells():
    assert sizing.estimate_mb(2_000_000, 20) == sizing.BASE_MB + 4000
    assert sizing.estimate_mb(4_000_000, 20) - sizing.estimate_mb(2_000_000, 20) == sizing.estimate_mb(2_000_000, 40) - sizing.estimate_mb(
        2_000_000, 20
    )
