"""The product's settings with the benchmark URLs added (nothing else changes)."""

from kangle.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_bench"
