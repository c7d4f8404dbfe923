"""Resources: the CofaServe client, the landing store, the warehouse."""

import os

# Arrow's default allocator (mimalloc) keeps freed memory mapped; jemalloc measured as fast or faster here
# (bench/model_builds) and lets the landing writers hand memory back (resources/landing/). Effective
# only before pyarrow is first imported; an explicit ARROW_DEFAULT_MEMORY_POOL wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")

# A two-year backfill materializes 4,380 partitions (730 days x 6 daily streams). Dagster's defaults write
# one "planned" event per partition when a run starts and store each materialization event on its own;
# these two settings (Dagster's own, read where runs are created and where steps run) write one planned
# event per asset of a range run and store the step's events in batches. Measured on a 300-company
# two-year `make sync`: 73 s -> 47 s. The one cost: a failed range run does not mark each of its
# partitions failed in the UI (the run is failed, and the next sync re-runs what is due). An explicit
# value in the environment wins; set them for the webserver and daemon too (docs/operations.md).
os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", "1000")

# numpy (imported by pyarrow) starts an OpenBLAS thread pool whose threads spin as they start: about
# 0.1 s of CPU per process on a 2-core machine (bench/peer_comparison), for linear algebra the pipeline
# never does. Effective only before numpy is first imported; an explicit OPENBLAS_NUM_THREADS wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
