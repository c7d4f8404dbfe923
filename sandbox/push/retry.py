"""The life of one pushed message on the push clock: the two-step retry process, storage for replay, the
replay window and its 7 attempts, as the functional page states them.

- Step 1: the first send, then 5 retries at once, then the rest of 50 retries spaced over 3,600 s.
- Step 2 ("the same retry process once"): starts so the whole automated process ends 5 hours after the
  first send.
- Then the message is stored. `PATCH /replay` may restart the regular process for it from 5 hours until
  5 days after its first send, 7 times at most; after that, or past the 5 days, it is lost for good.

Attempt instants that the clock jumps past (tests move it by hours) are spent by the one attempt made
when the message is next looked at; the immediate retries, due at the instant of the failure, are made.
"""

from __future__ import annotations

from dataclasses import dataclass, field

IMMEDIATE_RETRIES = 5
RETRIES_PER_STEP = 50
STEP_SECONDS = 3600.0
SECOND_STEP_AT = 4 * 3600.0
REPLAY_FROM = 5 * 3600.0
REPLAY_UNTIL = 5 * 86400.0
MAX_REPLAYS = 7


def step_retries() -> list[float]:
    """Offsets of one step's retries from its start: 5 at once, then the others spaced to 3,600 s."""
    spaced = RETRIES_PER_STEP - IMMEDIATE_RETRIES
    return [0.0] * IMMEDIATE_RETRIES + [STEP_SECONDS * i / spaced for i in range(1, spaced + 1)]


def first_schedule(published_at: float) -> list[float]:
    """Every attempt instant of a new message: the first send, step 1's retries, step 2's."""
    return ([published_at] + [published_at + o for o in step_retries()]
            + [published_at + SECOND_STEP_AT] + [published_at + SECOND_STEP_AT + o for o in step_retries()])


@dataclass
class Delivery:
    """A message's delivery state: ``pending`` (attempts left), ``delivered``, ``stored`` (for replay), ``lost``."""

    published_at: float
    schedule: list[float] = field(default_factory=list)
    state: str = "pending"
    attempts: int = 0
    replays: int = 0
    delivered_at: float | None = None
    last_error: str = ""

    def __post_init__(self) -> None:
        if not self.schedule:
            self.schedule = first_schedule(self.published_at)

    def due(self, now: float) -> bool:
        """Whether an attempt is due at ``now``."""
        return self.state == "pending" and bool(self.schedule) and self.schedule[0] <= now

    def succeeded(self, now: float) -> None:
        """The endpoint answered 2xx."""
        self.attempts += 1
        self.state, self.delivered_at, self.schedule, self.last_error = "delivered", now, [], ""

    def failed(self, now: float, error: str) -> None:
        """The endpoint failed: this attempt's instant and those the clock has passed are spent (retries due
        at the same instant stay); stored when none is left."""
        self.attempts += 1
        self.last_error = error
        self.schedule = [at for at in self.schedule[1:] if at >= now]
        if not self.schedule:
            self.state = "lost" if self.replays >= MAX_REPLAYS else "stored"

    def expire(self, now: float) -> None:
        """A stored message past the replay window is lost."""
        if self.state == "stored" and now > self.published_at + REPLAY_UNTIL:
            self.state = "lost"

    def replay(self, now: float) -> str:
        """`PATCH /replay` for this message: ``accepted`` (the regular process restarts now) or why not."""
        self.expire(now)
        age = now - self.published_at
        if self.state == "delivered":
            return "already_delivered"
        if self.state == "lost":
            return "lost"
        if self.state == "pending" or age < REPLAY_FROM:
            return "retry_in_progress"
        self.replays += 1
        self.state = "pending"
        self.schedule = [now] + [now + o for o in step_retries()]
        return "accepted"
