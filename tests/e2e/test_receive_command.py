"""`cofasync receive` as a user runs it: a process serving the receiver, refusing what it cannot check."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_receive_command_serves_and_refuses_an_unsigned_message(tmp_path):
    port = _free_port()
    env = {**os.environ, "LANDING_ROOT": str(tmp_path / "landing"), "DAGSTER_HOME": str(tmp_path / "home"),
           "COFASYNC_PUSH_QUERY": "mtu=007"}
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "receive", "--listen", f"127.0.0.1:{port}"],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}/cofaserve/push"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(base + "/health")
                break
            except httpx.ConnectError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
                time.sleep(0.1)
        assert health.json()["inbox"] == str(tmp_path / "landing" / "_push" / "inbox.sqlite3")
        unsigned = {"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:x:1:t", "Message": "{}",
                    "Timestamp": "2026-01-01T00:00:00.000Z", "SignatureVersion": "2", "Signature": "AAAA",
                    "SigningCertURL": "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem"}
        answer = httpx.post(base + "?mtu=007", json=unsigned)
        assert answer.status_code == 403 and "not allowed" in answer.json()["refused"]
        assert httpx.get(base + "/health").json()["refused"] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_a_malformed_receiver_setting_exits_2_naming_it(tmp_path):
    env = {**os.environ, "LANDING_ROOT": str(tmp_path / "landing"), "COFASYNC_PUSH_PATH": "no-slash"}
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "receive"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "COFASYNC_PUSH_PATH" in done.stderr + done.stdout
