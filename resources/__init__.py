"""Resources: the CofaServe client, the landing store, the warehouse."""

import os

# Arrow keeps freed memory for reuse by default (mimalloc); jemalloc, whose decay the landing writers set
# to zero, hands it back at once. Only effective before pyarrow is first imported; an explicit setting wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
