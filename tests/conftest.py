"""Shared pytest configuration for the cyloss test suite."""
import os
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Default: deterministic (same examples every run, no example database written to the
# working tree) so CI results are reproducible.  CYLOSS_HYPOTHESIS_PROFILE=cyloss-thorough
# explores with fresh random examples.
_common = dict(deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("cyloss", max_examples=60, derandomize=True, database=None, **_common)
settings.register_profile("cyloss-thorough", max_examples=1000, **_common)
settings.load_profile(os.environ.get("CYLOSS_HYPOTHESIS_PROFILE", "cyloss"))


@pytest.fixture
def rng(request):
    """A generator seeded from the test id: deterministic and different per test."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
