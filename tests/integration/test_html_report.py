"""report.html: `bench run` writes a self-contained page beside report.json that names the
defect, and `bench analyze` redraws it from the capture alone."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import describe, expect, main  # noqa: E402


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_a_failed_run_writes_a_page_that_names_the_missing_needle(env):
    proc, report, out = env.run_suite("DR-192-0.50", "defect-missing", "missing")
    expect(proc.returncode == 1, describe(proc))
    html = read(os.path.join(out, "report.html"))
    expect(html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>"), html[:200])
    expect(re.search(r"https?://", html) is None, "the page must load nothing from a network")
    expect(">FAIL<" in html, "verdict shown")
    expect("needle d3 i7" in html, "the missing needle is named")
    expect(html.count("<svg") == 5, f"{html.count('<svg')} plots")
    trace = report["rolls"][0]["trace"]
    expect(0 < len(trace["x_mm"]) <= 2000, len(trace["x_mm"]))
    expect(len(trace["steady_segments"]) == 1, trace["steady_segments"])

    again = env.run_bench("analyze", os.path.join(out, "capture.drcap"), "--out", env.out("again"))
    expect(again.returncode == 1, describe(again))
    replayed = read(os.path.join(env.out("again"), "report.html"))
    expect("needle d3 i7" in replayed and replayed.count("<svg") == 5, "replay redraws the page")


def test_a_run_that_cannot_reach_its_rig_still_writes_a_page(env):
    out = env.out("norig")
    proc = env.run_bench("run", env.suite("DR-192-0.50"), "--rig", env.out("no-such-port"),
                         "--serial", "X-1", "--out", out)
    expect(proc.returncode == 3, describe(proc))
    html = read(os.path.join(out, "report.html"))
    expect(">ERROR<" in html and "no-such-port" in html, html[-2000:])


if __name__ == "__main__":
    main(globals())
