import os

# A web or worker process handles one request or scores one submission per thread, and the platform scales
# by processes (one scoring worker per core: the README's "Running on real services"); numerical libraries'
# own thread pools on top of that only oversubscribe the cores (docs/benchmarks/deadline-rush.md: a
# scoring took about 3x the CPU with OpenBLAS's default pool). An operator may still set these.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from .celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
