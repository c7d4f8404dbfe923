"""Resources: the CofaServe client, the landing store, the warehouse."""

import os

# Arrow's default allocator (mimalloc) keeps freed memory mapped; jemalloc measured as fast or faster here
# (bench/model_builds) and lets the landing writers hand memory back (resources/landing/). Effective
# only before pyarrow is first imported; an explicit ARROW_DEFAULT_MEMORY_POOL wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
# numpy (imported by pyarrow) starts an OpenBLAS thread pool whose threads spin as they start: about
# 0.1 s of CPU per process on a 2-core machine (bench/peer_comparison), for linear algebra the pipeline
# never does. Effective only before numpy is first imported; an explicit OPENBLAS_NUM_THREADS wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
