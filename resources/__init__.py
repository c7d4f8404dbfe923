"""Resources: the CofaServe client, the landing store, the warehouse."""

import os

# Arrow's default allocator (mimalloc) keeps freed memory mapped; jemalloc measured as fast or faster here
# (bench/model_builds) and lets the landing writers hand memory back (resources/landing/). Effective
# only before pyarrow is first imported; an explicit ARROW_DEFAULT_MEMORY_POOL wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
