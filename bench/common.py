"""Helpers shared by the benchmarks: the machine they ran on, child processes measured one by one
(wall time, CPU time and peak resident memory), the sandbox's credentials as client settings or as the
environment `cofasync` reads, and the sections of ``bench/RESULTS.md``.

Every benchmark runs what it measures in a child process, so each figure's peak memory and CPU time are
that process's own (``os.wait4`` returns the rusage of exactly the child it waited for: ``ru_maxrss``
covers the child and the descendants it waited for itself, ``ru_utime`` + ``ru_stime`` the whole
process from its start, interpreter and imports included, and those descendants).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
RESULT_PREFIX = "RESULT "
"""A child reports its figures as one line: ``RESULT {json}`` (the last such line counts)."""


# -- the machine -------------------------------------------------------------------------------------

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_bytes() -> int:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def machine() -> dict:
    """Cores, memory, CPU model, Python version and OS of this machine."""
    return {
        "cores": os.cpu_count() or 0,
        "memory_gb": round(_memory_bytes() / 2**30, 1),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
    }


def machine_line() -> str:
    """The machine as one line of text (for the RESULTS.md sections)."""
    m = machine()
    return f"{m['cores']} cores, {m['memory_gb']} GB memory, {m['cpu']}, Python {m['python']}, {m['os']}"


def file_creation_probe(folder: Path, files: int = 1000) -> float:
    """CPU seconds (user + sys) this process spends creating ``files`` small new files in ``folder``
    (then removed). A loader that writes many files (ours: a manifest per day and stream) pays this
    per file; on this machine's ext4 it swings from 0.03 to 0.7 s per 1,000 files as other work creates
    and deletes files, so the figure is printed beside the results."""
    probe = Path(tempfile.mkdtemp(prefix="probe-", dir=folder))
    started = time.process_time()
    for i in range(files):
        (probe / f"f{i}").write_bytes(b"x" * 256)
    spent = time.process_time() - started
    for i in range(files):
        (probe / f"f{i}").unlink()
    probe.rmdir()
    return spent


def profile_all_threads(function, *args, out: Path):
    """Run ``function(*args)`` under cProfile in this thread and in every thread it starts, timing each
    thread by its own CPU time (``time.thread_time``, so a thread waiting costs nothing); write the
    merged statistics to ``out`` and return the function's result."""
    import cProfile
    import pstats

    profilers: list[cProfile.Profile] = []

    def start_in_new_thread(frame, event, arg):  # the first event of a thread started meanwhile
        sys.setprofile(None)
        profiler = cProfile.Profile(time.thread_time)
        profilers.append(profiler)
        profiler.enable()

    main = cProfile.Profile(time.thread_time)
    threading.setprofile(start_in_new_thread)
    try:
        result = main.runcall(function, *args)
    finally:
        threading.setprofile(None)
    stats = pstats.Stats(main)
    for profiler in profilers:
        profiler.disable()
        stats.add(profiler)
    stats.dump_stats(str(out))
    return result


# -- child processes ---------------------------------------------------------------------------------

@dataclass
class ChildRun:
    """One child process: its command, exit code, output, wall time, peak RSS and CPU seconds."""

    command: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float  # user + sys
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """Whether the child exited 0 within its timeout."""
        return self.returncode == 0 and not self.timed_out

    def result(self) -> dict | None:
        """The child's ``RESULT {json}`` line, decoded (None when it printed none)."""
        for line in reversed(self.stdout.splitlines()):
            if line.startswith(RESULT_PREFIX):
                return json.loads(line[len(RESULT_PREFIX):])
        return None

    def tail(self, lines: int = 15) -> str:
        """The last lines of stderr (else stdout), to show why a child failed."""
        text = self.stderr.strip() or self.stdout.strip()
        return "\n".join(text.splitlines()[-lines:])


def run_child(command: list[str], *, env: dict | None = None, timeout: float | None = None,
              echo: bool = False) -> ChildRun:
    """Run ``command`` and wait for it with ``os.wait4``, so its own peak RSS and CPU time are measured.

    Output goes to temporary files (no pipe can fill up). ``echo`` copies the child's stdout to ours
    once it has finished. After ``timeout`` seconds the child is killed and the run marked timed out.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **(env or {})}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=ROOT)
        timed_out = threading.Event()

        def _kill() -> None:
            timed_out.set()
            proc.kill()

        timer = threading.Timer(timeout, _kill) if timeout else None
        if timer:
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            if timer:
                timer.cancel()
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    # ru_maxrss is in KB on Linux, in bytes on macOS
    peak = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)
    run = ChildRun(list(command), proc.returncode, stdout, stderr, seconds, round(peak, 1),
                   cpu_seconds=round(usage.ru_utime + usage.ru_stime, 3), timed_out=timed_out.is_set())
    if echo and stdout:
        print("\n".join(line for line in stdout.splitlines() if not line.startswith(RESULT_PREFIX)), flush=True)
    return run


def report_result(figures: dict) -> None:
    """Print this process's figures as the ``RESULT`` line its parent reads."""
    print(RESULT_PREFIX + json.dumps(figures, default=str), flush=True)


def self_peak_rss_mb() -> float:
    """Peak RSS of this process so far, in MB."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def command_line(argv: list[str] | None = None) -> str:
    """The command that ran this benchmark, relative to the repository, as one could type it again."""
    argv = list(sys.argv if argv is None else argv)
    script = Path(argv[0]).resolve()
    try:
        argv[0] = str(script.relative_to(ROOT))
    except ValueError:
        pass
    return ".venv/bin/python " + " ".join(shlex.quote(a) for a in argv)


# -- the sandbox as the pipeline sees it -------------------------------------------------------------

def client_settings(sb, lockout_dir: Path, **overrides):
    """Client settings for a running sandbox (``sandbox.testing.SandboxHandle``)."""
    from resources.cofaserve import ClientSettings

    creds = sb.credentials
    return ClientSettings.build(base_url=sb.base_url, auth_url=sb.auth_url, username=creds["username"],
                                password=creds["password"], api_key=creds["api_key"],
                                policy_number=creds["policy_number"], lockout_dir=lockout_dir, **overrides)


def sandbox_env(sb) -> dict[str, str]:
    """The sandbox's address and credentials as the ``COFASERVE_*`` variables (for child processes)."""
    creds = sb.credentials
    return {
        "COFASERVE_BASE_URL": sb.base_url,
        "COFASERVE_AUTH_URL": sb.auth_url,
        "COFASERVE_USERNAME": creds["username"],
        "COFASERVE_PASSWORD": creds["password"],
        "COFASERVE_API_KEY": creds["api_key"],
        "COFASERVE_POLICY_NUMBER": creds["policy_number"],
    }


def api_seconds(counters: dict) -> float:
    """The API part of a run, from the sandbox's counters (``/_sandbox/counters``): from the first request
    to the last one the sandbox answered."""
    spans = counters["spans"].values()
    return max(s["last"] for s in spans) - min(s["first"] for s in spans)


def pipeline_env(sb, workdir: Path) -> dict[str, str]:
    """Everything `cofasync` reads to run against the sandbox with all its state under ``workdir``."""
    return {
        **sandbox_env(sb),
        "COFASERVE_LOCKOUT_DIR": str(workdir / "lockout"),
        "COFASYNC_TODAY": sb.today.isoformat(),
        "LANDING_ROOT": str(workdir / "landing"),
        "WAREHOUSE_URL": f"duckdb:///{workdir / 'warehouse.duckdb'}",
        "DAGSTER_HOME": str(workdir / "dagster"),
    }


# -- RESULTS.md --------------------------------------------------------------------------------------

def section(key: str, title: str, body: str) -> str:
    """One RESULTS.md section, delimited by markers so that it can be replaced on its own."""
    return f"<!-- bench:{key} -->\n## {title}\n\n{body.strip()}\n<!-- /bench:{key} -->\n"


def update_section(key: str, title: str, body: str, path: Path = RESULTS) -> None:
    """Replace (or append) the section ``key`` of ``path``, leaving the other sections as they are."""
    text = path.read_text() if path.exists() else "# Benchmark results\n\n"
    new = section(key, title, body)
    pattern = re.compile(rf"<!-- bench:{re.escape(key)} -->\n.*?<!-- /bench:{re.escape(key)} -->\n", re.S)
    text = pattern.sub(lambda _: new, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + new
    path.write_text(text)


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table."""
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def ratio(a: float, b: float) -> float:
    """a ÷ b, or NaN when b is 0."""
    return a / b if b else float("nan")
