"""The push receiver's parts: its settings, the check of every message (signature, certificate host,
token, query parameter) and the durable inbox messages are appended to before they are acknowledged."""

from .inbox import Inbox
from .settings import PushSettings, load_push_settings
from .verify import MessageVerifier, Refused

__all__ = ["Inbox", "MessageVerifier", "PushSettings", "Refused", "load_push_settings"]
