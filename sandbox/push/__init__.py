"""The push channel of the sandbox (NOTIFICATION - PUSH): topics, subscriptions, signed SNS-style
messages sent to the subscriber's endpoint, the two-step retry process and the replay API, all timed on
the sandbox's push clock so tests never wait hours."""
