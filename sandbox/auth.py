"""Login, tokens and the account lockout rules of the functional page, on an injectable clock.

Lockout [DOC]: five failed attempts are allowed, and, as Amazon Cognito counts them, the fifth failure
itself starts a 1 s lockout (so a correct password an instant later is refused); each failure after a
lockout has ended starts one twice as long as the last, capped at 900 s (about 15 minutes).
Attempts during a lockout are ignored (even a correct password fails with "Password attempts exceeded")
and neither count nor restart the quiet timer. A successful login resets the counter; so do 900 s
without any counted attempt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

import orjson

ALLOWED_FAILURES = 5
FIRST_LOCK_SECONDS = 1.0
MAX_LOCK_SECONDS = 900.0
QUIET_RESET_SECONDS = 900.0
TOKEN_TTL_SECONDS = 3600
REFRESH_TTL_SECONDS = 30 * 86400

MSG_INCORRECT = "Incorrect username or password"
MSG_EXCEEDED = "Password attempts exceeded"


class AuthClock:
    """Wall-clock seconds plus an offset that tests move forward (`advance`) instead of sleeping."""

    def __init__(self, base=time.time):
        self._base = base
        self.offset = 0.0

    def now(self) -> float:
        return self._base() + self.offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward by `seconds` (never backwards); returns the total offset."""
        if seconds < 0:
            raise ValueError("the auth clock never goes backwards")
        self.offset += seconds
        return self.offset


@dataclass(frozen=True)
class Credentials:
    """The one user of a world, with its API key and policy number."""

    username: str
    password: str
    api_key: str
    policy_number: str

    @classmethod
    def for_seed(cls, seed: int, policy_number: str) -> Credentials:
        """Credentials derived from the seed, so a restarted sandbox accepts the same ones."""
        h = hashlib.sha256(f"{seed}:credentials".encode()).hexdigest()
        return cls(f"sandbox-user-{seed}@example.com", f"Sbx!{h[:16]}", h[16:48], policy_number)

    def as_dict(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password, "api_key": self.api_key,
                "policy_number": self.policy_number}


@dataclass
class _Lock:
    failures: int = 0
    lock_until: float = 0.0
    last_lock: float = 0.0
    last_attempt: float | None = None


@dataclass
class LoginOutcome:
    ok: bool
    message: str  # MSG_INCORRECT / MSG_EXCEEDED when not ok
    kind: str  # success | failure | lockout_started | ignored


class Lockout:
    """The per-username lockout state machine (see the module docstring)."""

    def __init__(self):
        self._states: dict[str, _Lock] = {}

    def attempt(self, username: str, password_ok: bool, now: float) -> LoginOutcome:
        """Judge one password attempt at `now` and update the state."""
        st = self._states.setdefault(username, _Lock())
        if now < st.lock_until:
            return LoginOutcome(False, MSG_EXCEEDED, "ignored")
        if st.last_attempt is not None and now - st.last_attempt >= QUIET_RESET_SECONDS:
            st = self._states[username] = _Lock()
        st.last_attempt = now
        if password_ok:
            self._states[username] = _Lock(last_attempt=now)
            return LoginOutcome(True, "", "success")
        st.failures += 1
        if st.failures < ALLOWED_FAILURES:
            return LoginOutcome(False, MSG_INCORRECT, "failure")
        first = st.last_lock == 0  # the fifth failure: still "incorrect", and the account locks
        duration = FIRST_LOCK_SECONDS if first else min(2 * st.last_lock, MAX_LOCK_SECONDS)
        st.last_lock = duration
        st.lock_until = now + duration
        return LoginOutcome(False, MSG_INCORRECT if first else MSG_EXCEEDED, "lockout_started")

    def locked_until(self, username: str) -> float:
        st = self._states.get(username)
        return st.lock_until if st else 0.0


@dataclass
class _Token:
    username: str
    use: str  # id | access | refresh
    expires_at: float
    generation: int


@dataclass
class TokenStore:
    """Issued tokens; `revoke_all` invalidates every token issued so far (fault injection)."""

    clock: AuthClock
    ttl: int = TOKEN_TTL_SECONDS
    generation: int = 0
    _tokens: dict[str, _Token] = field(default_factory=dict)
    _secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def _jwt(self, username: str, use: str, expires_at: float) -> str:
        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        header = b64(orjson.dumps({"alg": "HS256", "typ": "JWT"}))
        payload = b64(orjson.dumps({"sub": username, "token_use": use, "exp": int(expires_at),
                                    "iat": int(self.clock.now()), "jti": secrets.token_hex(8)}))
        sig = b64(hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{sig}"

    def issue(self, username: str, refresh_token: str | None = None) -> dict:
        """A login answer: idToken, accessToken, refreshToken (reused on refresh), expiresIn, tokenType."""
        now = self.clock.now()
        id_token = self._jwt(username, "id", now + self.ttl)
        access = self._jwt(username, "access", now + self.ttl)
        self._tokens[id_token] = _Token(username, "id", now + self.ttl, self.generation)
        self._tokens[access] = _Token(username, "access", now + self.ttl, self.generation)
        if refresh_token is None:
            refresh_token = secrets.token_urlsafe(48)
            self._tokens[refresh_token] = _Token(username, "refresh", now + REFRESH_TTL_SECONDS, self.generation)
        return {"idToken": id_token, "accessToken": access, "refreshToken": refresh_token,
                "expiresIn": self.ttl, "tokenType": "Bearer"}

    def check(self, token: str, use: str) -> str | None:
        """The username of a valid, unexpired, unrevoked token of kind `use`, else None."""
        tok = self._tokens.get(token)
        if tok is None or tok.use != use or tok.generation != self.generation:
            return None
        if self.clock.now() >= tok.expires_at:
            return None
        return tok.username

    def revoke_all(self) -> None:
        """Invalidate every token issued so far; later logins work as usual."""
        self.generation += 1
        self._tokens.clear()
