"""Metrics: what the greylister counts shows in the Prometheus text format, per process and
summed over real worker processes in multiprocess mode."""

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest
from prometheus_client import values
from prometheus_client.parser import text_string_to_metric_families

from Kamaelia.Apps.Grey import Metrics as M
from Kamaelia.Apps.Grey.Policy import ACCEPT, Decision
from Kamaelia.Apps.Grey.SMTPReplies import Reply

REPO = pathlib.Path(__file__).resolve().parents[4]
CHILD_DEADLINE = 60


def samples(text):
    """{(sample name, sorted label items): value} of an exposition."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text, name, **labels):
    return samples(text).get((name, tuple(sorted(labels.items()))))


def test_counts_appear_in_the_exposition():
    metrics = M.Metrics()
    metrics.sessionOpened("proxy")
    metrics.sessionOpened("proxy")
    metrics.sessionOpened("policy")
    metrics.sessionClosed("proxy")
    metrics.countReasons("policy", ["new", "new", "passed", "auto-whitelisted"])
    metrics.countDecision("proxy", Decision(ACCEPT, Reply(250, "2.0.0", "ok"),
                                            (("a@x", "whitelisted"), ("b@x", "early-retry"))))
    metrics.relayOutcome(250)
    metrics.relayOutcome("451 4.3.0 try later")
    metrics.relayOutcome(None)
    metrics.backendError("timeout")
    metrics.observeBackend(0.02)
    text = metrics.exposition()
    assert value(text, "kamaelia_grey_sessions_open", frontend="proxy") == 1
    assert value(text, "kamaelia_grey_sessions_open", frontend="policy") == 1
    assert value(text, "kamaelia_grey_sessions_total", frontend="proxy") == 2
    assert value(text, "kamaelia_grey_decisions_total", frontend="policy", reason="new") == 2
    assert value(text, "kamaelia_grey_decisions_total", frontend="policy", reason="passed") == 1
    assert value(text, "kamaelia_grey_decisions_total", frontend="policy",
                 reason="auto-whitelisted") == 1
    assert value(text, "kamaelia_grey_decisions_total", frontend="proxy", reason="whitelisted") == 1
    assert value(text, "kamaelia_grey_decisions_total", frontend="proxy", reason="early-retry") == 1
    for codeClass, count in (("2xx", 1), ("4xx", 1), ("5xx", 0), ("none", 1)):
        assert value(text, "kamaelia_grey_relay_outcomes_total", code_class=codeClass) == count
    assert value(text, "kamaelia_grey_backend_errors_total", kind="timeout") == 1
    assert value(text, "kamaelia_grey_backend_latency_seconds_count") == 1
    assert value(text, "kamaelia_grey_backend_latency_seconds_bucket", le="0.025") == 1
    assert value(text, "kamaelia_grey_backend_latency_seconds_bucket", le="0.01") == 0


def test_each_metrics_object_counts_alone():
    first, second = M.Metrics(), M.Metrics()
    first.sessionOpened("policy")
    assert value(second.exposition(), "kamaelia_grey_sessions_total", frontend="policy") == 0
    assert value(first.exposition(), "kamaelia_grey_sessions_total", frontend="policy") == 1


def test_label_values_stay_bounded():
    metrics = M.Metrics()
    metrics.countReasons("proxy", ["no-such-reason\n", "x" * 1000])
    metrics.backendError("a peer's words")
    text = metrics.exposition()
    assert value(text, "kamaelia_grey_decisions_total", frontend="proxy", reason="other") == 2
    assert value(text, "kamaelia_grey_backend_errors_total", kind="other") == 1
    with pytest.raises(ValueError):
        metrics.sessionOpened("smtp")


def test_time_store_observes_latency_and_counts_errors():
    ticks = iter([10.0, 10.5, 20.0, 23.0])
    metrics = M.Metrics()
    with metrics.timeStore(clock=lambda: next(ticks)):
        pass
    with pytest.raises(RuntimeError):
        with metrics.timeStore(clock=lambda: next(ticks)):
            raise RuntimeError("database down")
    text = metrics.exposition()
    assert value(text, "kamaelia_grey_store_latency_seconds_count") == 2
    assert value(text, "kamaelia_grey_store_latency_seconds_sum") == pytest.approx(3.5)
    assert value(text, "kamaelia_grey_store_latency_seconds_bucket", le="1.0") == 1
    assert value(text, "kamaelia_grey_store_errors_total") == 1


def test_time_backend_counts_an_error_when_the_block_raises():
    metrics = M.Metrics()
    with pytest.raises(OSError):
        with metrics.timeBackend():
            raise OSError("connection reset")
    text = metrics.exposition()
    assert value(text, "kamaelia_grey_backend_errors_total", kind="other") == 1
    assert value(text, "kamaelia_grey_backend_latency_seconds_count") == 1


@pytest.mark.parametrize("code, expected", [
    (250, "2xx"), ("250 ok", "2xx"), (421, "4xx"), ("554", "5xx"), (None, "none"),
    ("", "none"), ("abc", "none"), (199, "none"), (600, "none"), (354, "none")])
def test_code_class(code, expected):
    assert M.codeClass(code) == expected


# -- several processes ------------------------------------------------------------------------

WORKER = textwrap.dedent("""
    import os, sys
    from Kamaelia.Apps.Grey.Metrics import Metrics
    sessions, decisions = int(sys.argv[1]), int(sys.argv[2])
    metrics = Metrics()
    for _ in range(sessions):
        metrics.sessionOpened("proxy")
    metrics.countReasons("proxy", ["new"] * decisions)
    metrics.observeStore(0.003)
    print(os.getpid())
""")


@pytest.fixture
def multiprocessDir(tmp_path, monkeypatch):
    """Multiprocess mode in a private directory; this process is put back afterwards."""
    saved = values.ValueClass
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_99999.db").write_bytes(b"left by an earlier run")
    M.setUpMultiprocess(str(directory))
    yield directory
    values.close_all_multiprocess_files()
    values.ValueClass = saved
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)


def runWorker(sessions, decisions):
    """A real process counting in multiprocess mode; returns its pid once it has exited."""
    done = subprocess.run([sys.executable, "-c", WORKER, str(sessions), str(decisions)],
                          cwd=REPO, capture_output=True, text=True, timeout=CHILD_DEADLINE,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def test_multiprocess_mode_sums_two_real_processes(multiprocessDir):
    assert not (multiprocessDir / "counter_99999.db").exists(), "stale files must go"
    assert M.multiprocessDirectory() == str(multiprocessDir)
    first = runWorker(sessions=2, decisions=3)
    second = runWorker(sessions=1, decisions=4)
    assert first != second
    text = M.Metrics().exposition()
    assert value(text, "kamaelia_grey_sessions_total", frontend="proxy") == 3
    assert value(text, "kamaelia_grey_decisions_total", frontend="proxy", reason="new") == 7
    assert value(text, "kamaelia_grey_store_latency_seconds_count") == 2
    assert value(text, "kamaelia_grey_sessions_open", frontend="proxy") == 3
    M.workerExited(first)
    text = M.Metrics().exposition()
    assert value(text, "kamaelia_grey_sessions_open", frontend="proxy") == 1, \
        "an ended worker's open sessions no longer count"
    assert value(text, "kamaelia_grey_sessions_total", frontend="proxy") == 3, \
        "what it counted stays counted"
