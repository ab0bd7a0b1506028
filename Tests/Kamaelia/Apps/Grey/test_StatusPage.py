"""StatusPage: the status page and the stats report; then the page as a real headless
chromium renders it from a real StatusServer over a real SQLite greylist store."""

import datetime
import html.parser
import json
import os
import random
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from Axon.Component import component
from Kamaelia.Apps.Grey.GreylistStore import GreylistStore
from Kamaelia.Apps.Grey.StatusPage import (
    LABELS,
    OUTCOMES,
    hourSlots,
    hourText,
    renderPage,
    renderStats,
    statsReport,
    tally,
)
from Kamaelia.Apps.Grey.StatusServer import StatusServer

NOW = 1764645000.0          # 2025-12-02 03:10 UTC
HOUR = 3600
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
BROWSER_DEADLINE = 90


class Rects(html.parser.HTMLParser):
    """The chart's bars, legend, summary and visible text of a page."""

    def __init__(self):
        super().__init__()
        self.bars = {}
        self.heights = {}
        self.legend = {}
        self.glance = {}
        self.text = []
        self._in = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "rect" and "data-outcome" in attrs:
            key = (attrs["data-hour"], attrs["data-outcome"])
            assert key not in self.bars, "one bar segment per hour and outcome"
            self.bars[key] = int(attrs["data-count"])
            self.heights[key] = float(attrs["height"])
        elif tag == "li" and "data-outcome" in attrs:
            self.legend[attrs["data-outcome"]] = int(attrs["data-total"])
        elif tag == "dd":
            self._in = attrs.get("data-key")
        if tag in ("style", "title", "script"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "title", "script"):
            self._skip -= 1
        if tag == "dd":
            self._in = None

    def handle_data(self, data):
        if self._in:
            self.glance[self._in] = data
        if not self._skip and data.strip():
            self.text.append(data.strip())


def parse(page):
    parser = Rects()
    parser.feed(page)
    parser.close()
    return parser


def test_the_hours_are_the_24_up_to_now_in_utc():
    slots = hourSlots(NOW)
    assert len(slots) == 24 and slots[-1] == NOW - NOW % HOUR and slots[0] == slots[-1] - 23 * HOUR
    rng = random.Random(11)
    for when in [0.0, 951782400.0, 4102444799.0] + [rng.uniform(0, 4e9) for _ in range(200)]:
        expected = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
        assert hourText(when) == expected.strftime("%Y-%m-%dT%H:00Z"), when


def test_tally_buckets_rows_into_their_hour_and_leaves_out_the_rest():
    last = hourSlots(NOW)[-1]
    counts = tally([(last + 1234, "deferred", 2), (last, "deferred", 3),
                    (last - 23 * HOUR, "passed", 1), (last - 24 * HOUR, "passed", 50),
                    (last + HOUR, "refused", 9), (last, "bogus", 4), (last, "refused", -5)], NOW)
    assert counts[last]["deferred"] == 5
    assert counts[last - 23 * HOUR]["passed"] == 1
    assert sum(sum(hour.values()) for hour in counts.values()) == 6
    assert set(counts[last]) == set(OUTCOMES)


def test_page_has_every_bar_with_its_count_and_proportional_height():
    last = hourSlots(NOW)[-1]
    history = [(last, "deferred", 8), (last, "passed", 2), (last - 5 * HOUR, "refused", 5)]
    page = parse(renderPage({"pending": 4}, history, NOW))
    assert len(page.bars) == 24 * len(OUTCOMES)
    assert page.bars[(hourText(last), "deferred")] == 8
    assert page.bars[(hourText(last - 5 * HOUR), "refused")] == 5
    assert page.heights[(hourText(last), "deferred")] == pytest.approx(
        4 * page.heights[(hourText(last), "passed")])
    assert page.heights[(hourText(last), "whitelisted")] == 0
    assert page.legend == {"deferred": 8, "passed": 2, "never-retried": 0, "whitelisted": 0,
                           "refused": 5}
    assert page.glance["pending"] == "4" and page.glance["passed"] == "-"


def test_an_empty_history_draws_empty_bars():
    page = parse(renderPage({}, [], NOW))
    assert len(page.bars) == 24 * len(OUTCOMES) and set(page.bars.values()) == {0}
    assert set(page.heights.values()) == {0.0}


def test_everything_from_the_data_is_escaped_and_nothing_is_loaded_from_elsewhere():
    hostile = '<script>alert("x")</script>'
    page = renderPage({"pending": hostile, "whitelistedClients": "\"'><img src=x>"},
                      [(NOW, hostile, 3)], NOW, title=hostile)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x&gt;" in page


def test_the_page_loads_nothing_from_elsewhere():
    page = renderPage({"pending": 1}, [(NOW, "deferred", 3)], NOW)
    for reference in ("src=", "http://", "https://", "<link", "@import", "<script"):
        assert reference not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_stats_report_shows_the_summary_and_every_hour():
    last = hourSlots(NOW)[-1]
    report = renderStats({"pending": 12, "passed": 340, "whitelistedClients": 5,
                          "whitelistedDomains": 1},
                         [(last, "deferred", 7), (last - HOUR, "never-retried", 2)], NOW)
    lines = report.splitlines()
    assert lines[0] == "Greylist at 2025-12-02 03:10 UTC"
    assert "Entries pending (never passed):  12" in report
    assert "Auto-whitelisted clients:" in report and lines[3].split()[-1] == "5"
    hours = [line for line in lines if line.startswith("  2025-") or line.startswith("  2025")]
    assert len(hours) == 24 and hours[-1].split()[:3] == ["2025-12-02", "03:00", "7"]
    assert lines[-1].split() == ["total", "7", "0", "2", "0", "0"]
    assert renderStats({}, [], NOW).count("\n") == len(renderStats({}, [], NOW).splitlines())


def test_the_module_example_runs():
    import doctest

    from Kamaelia.Apps.Grey import StatusPage
    result = doctest.testmod(StatusPage)
    assert result.attempted >= 5 and result.failed == 0


def test_stats_report_from_a_real_store(store):
    store.countOutcomes({"refused": 2}, NOW)
    store.countOutcomes({"deferred": 9}, NOW - 24 * HOUR)
    store.check("192.0.2.1", "a@example.org", "b@example.net", NOW - 10)
    lines = statsReport(store, NOW).splitlines()
    assert lines[1].split()[-1] == "1", "one entry pending"
    assert lines[-1].split() == ["total", "0", "0", "0", "0", "2"], "25 hours ago is left out"


def test_stats_report_makes_hostile_text_printable():
    report = renderStats({"pending": "a\x1b[2Jb\nc"}, [], NOW)
    assert "\x1b" not in report and "a?[2Jb?c" in report


# -- in a real browser -------------------------------------------------------------------------

class Keeper(component):
    def main(self):
        while not self.dataReady("control"):
            self.pause()
            yield 1


def findProgram(path, name, package):
    """``path`` (or ``name`` on PATH); else skip, or fail with KAMAELIA_REQUIRE_CHROMIUM=1."""
    if os.path.exists(path):
        return path
    if shutil.which(name):
        return shutil.which(name)
    if os.environ.get("KAMAELIA_REQUIRE_CHROMIUM") == "1":
        pytest.fail("%s is not installed (KAMAELIA_REQUIRE_CHROMIUM=1): apt-get install %s"
                    % (name, package))
    pytest.skip("%s is not installed (Debian: apt-get install %s); the status page was not "
                "checked in a browser" % (name, package))


def chromium():
    return findProgram(CHROMIUM, "chromium", "chromium")


def dumpDom(browser, url, profile):
    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                           "--no-first-run", "--user-data-dir=%s" % profile,
                           "--dump-dom", url],
                          capture_output=True, text=True, timeout=BROWSER_DEADLINE)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def store(tmp_path):
    store = GreylistStore(str(tmp_path / "greylist.db"))
    yield store
    store.close()


def test_chromium_shows_the_counts_the_store_holds(system, store, tmp_path):
    browser = chromium()
    last = hourSlots(NOW)[-1]
    store.countOutcomes({"deferred": 7, "passed": 3, "whitelisted": 2}, NOW)
    store.countOutcomes({"deferred": 4, "refused": 1}, NOW - 2 * HOUR)
    store.countOutcomes({"deferred": 100}, NOW - 30 * HOUR)
    for n in range(3):
        store.check("192.0.2.%d" % n, "a@example.org", "b@example.net", NOW - 60)
    summary = store.summary(NOW)
    system.activate(Keeper())
    server = system.call(lambda: StatusServer(host="127.0.0.1", port=0, source=store,
                                              clock=lambda: NOW).activate())
    try:
        dom = dumpDom(browser, "http://127.0.0.1:%d/" % server.port, tmp_path / "profile")
    finally:
        system.call(server.stop)
    page = parse(dom)
    expected = {(hourText(slot), outcome): 0 for slot in hourSlots(NOW) for outcome in OUTCOMES}
    expected.update({(hourText(last), "deferred"): 7, (hourText(last), "passed"): 3,
                     (hourText(last), "whitelisted"): 2,
                     (hourText(last - 2 * HOUR), "deferred"): 4,
                     (hourText(last - 2 * HOUR), "refused"): 1})
    assert page.bars == expected
    assert page.legend == {"deferred": 11, "passed": 3, "never-retried": 0, "whitelisted": 2,
                           "refused": 1}
    assert page.glance["pending"] == str(summary["pending"]) == "3"
    visible = " ".join(page.text)
    for outcome, total in page.legend.items():
        assert "%s: %d" % (LABELS[outcome], total) in visible
    assert "At 2025-12-02 03:10 UTC" in visible


class WebDriver:
    """A headless chromium driven by chromedriver over the W3C WebDriver protocol.

    ``open(url)`` loads a page, ``run(script)`` returns what the script
    returns, computed by the browser's own layout. Every call is bounded.
    """

    def __init__(self, driver, browser):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.base = "http://127.0.0.1:%d" % port
        self.process = subprocess.Popen([driver, "--port=%d" % port],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.session = None
        try:
            self._waitUntilUp()
            options = {"binary": browser, "args": ["--headless", "--no-sandbox", "--disable-gpu",
                                                   "--no-first-run", "--window-size=1200,900"]}
            created = self._call("POST", "/session", {"capabilities": {"alwaysMatch": {
                "browserName": "chrome", "goog:chromeOptions": options}}})
            self.session = created["sessionId"]
        except BaseException:
            self.close()
            raise

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=BROWSER_DEADLINE) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as error:
            raise AssertionError("WebDriver %s %s: %s"
                                 % (method, path, error.read()[:500])) from None

    def _waitUntilUp(self):
        deadline = time.monotonic() + BROWSER_DEADLINE
        while True:
            try:
                if self._call("GET", "/status").get("ready"):
                    return
            except (OSError, ValueError):
                pass
            assert self.process.poll() is None, "chromedriver exited at start"
            assert time.monotonic() < deadline, "chromedriver did not start in time"
            time.sleep(0.05)

    def open(self, url):
        self._call("POST", "/session/%s/url" % self.session, {"url": url})

    def run(self, script):
        return self._call("POST", "/session/%s/execute/sync" % self.session,
                          {"script": script, "args": []})

    def close(self):
        if self.session is not None:
            try:
                self._call("DELETE", "/session/%s" % self.session)
            finally:
                self.session = None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(BROWSER_DEADLINE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(BROWSER_DEADLINE)


RENDERED = """
const bars = [...document.querySelectorAll('rect.bar')].map(r => {
  const box = r.getBoundingClientRect();
  return {hour: r.dataset.hour, outcome: r.dataset.outcome, count: Number(r.dataset.count),
          height: box.height, left: box.left, title: r.querySelector('title').textContent};
});
const chart = document.getElementById('chart').getBoundingClientRect();
return {bars: bars, text: document.body.innerText, width: chart.width, height: chart.height};
"""


def test_the_chart_as_chromium_lays_it_out_matches_the_store(system, store):
    browser, driver = chromium(), findProgram(CHROMEDRIVER, "chromedriver", "chromium-driver")
    last = hourSlots(NOW)[-1]
    store.countOutcomes({"deferred": 6, "passed": 3}, NOW)
    store.countOutcomes({"never-retried": 2, "whitelisted": 1}, NOW - 5 * HOUR)
    system.activate(Keeper())
    server = system.call(lambda: StatusServer(host="127.0.0.1", port=0, source=store,
                                              clock=lambda: NOW).activate())
    webdriver = None
    try:
        webdriver = WebDriver(driver, browser)
        webdriver.open("http://127.0.0.1:%d/" % server.port)
        rendered = webdriver.run(RENDERED)
    finally:
        if webdriver is not None:
            webdriver.close()
        system.call(server.stop)
    assert rendered["width"] > 300 and rendered["height"] > 100, "the chart is on screen"
    bars = {(bar["hour"], bar["outcome"]): bar for bar in rendered["bars"]}
    assert len(bars) == 24 * len(OUTCOMES)
    counts = {key: bar["count"] for key, bar in bars.items() if bar["count"]}
    assert counts == {(hourText(last), "deferred"): 6, (hourText(last), "passed"): 3,
                      (hourText(last - 5 * HOUR), "never-retried"): 2,
                      (hourText(last - 5 * HOUR), "whitelisted"): 1}
    perItem = bars[(hourText(last), "deferred")]["height"] / 6
    assert perItem > 5, "a count is drawn visibly tall"
    for bar in rendered["bars"]:
        assert bar["height"] == pytest.approx(bar["count"] * perItem, abs=0.6), bar
    lefts = [bars[(hourText(slot), "deferred")]["left"] for slot in hourSlots(NOW)]
    assert lefts == sorted(lefts) and len(set(lefts)) == 24, "oldest hour left, now right"
    assert bars[(hourText(last), "deferred")]["title"] == "03:00-04:00 UTC: 6 deferred"
    for outcome, total in (("deferred", 6), ("passed", 3), ("never-retried", 2),
                           ("whitelisted", 1), ("refused", 0)):
        assert "%s: %d" % (LABELS[outcome], total) in rendered["text"]
