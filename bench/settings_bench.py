"""The product's settings with the benchmark URLs added, and a header naming the worker process that
answered (``harness.wrk`` counts them to tell a window whose connections all went to one worker)."""

from kangle.settings import *  # noqa: F403
from kangle.settings import MIDDLEWARE

ROOT_URLCONF = "bench.urls_bench"
MIDDLEWARE = ["bench.worker_header.worker_header", *MIDDLEWARE]
