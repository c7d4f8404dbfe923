"""The landing store's errors."""


class LandingError(RuntimeError):
    """Rows or arguments the landing store cannot accept (a bug in the caller, not bad data)."""


class PartitionLocked(LandingError):
    """Another writer holds the (stream, partition): two writers never write one partition at once."""


class DamagedLanding(LandingError):
    """A landed file or manifest is missing, truncated, garbled or does not match its recorded digest."""
