"""Crash safety: `bench run` killed with SIGKILL at random moments loses nothing it had
completed.

The runner syncs the capture at every step boundary (docs/reliability.md): so whenever the
process dies, `bench analyze` must read the capture back with every step that had completed
(a step is known to have completed once the next one was announced on stderr), judge the
broken-off run as an error (never a pass), and the results database given with --db must
still open, pass SQLite's integrity check and list its runs. The kill moments are drawn from
a seeded generator over the length of an undisturbed run.
"""
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import describe, expect  # noqa: E402

QUICK = "quick-DR-192-0.50.yaml"
KILLS = 16


def start_run(env, out, db):
    args = [env.bench, "run", env.path("fixtures", "suites", QUICK), "--rig", "sim", "--roller",
            env.roller("nominal-DR-192-0.50"), "--out", out, "--db", db]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def started_steps(stderr):
    """Numbers of the steps the run announced ("step 3/6: lane")."""
    return [int(m.group(1)) for m in re.finditer(r"^step (\d+)/\d+: ", stderr, re.M)]


def test_a_run_killed_at_any_moment_keeps_every_completed_step_readable(env):
    db = env.out("crash.db")
    # How long an undisturbed run lasts, to spread the kills over it.
    t0 = time.monotonic()
    whole = start_run(env, env.out("crash-whole"), db)
    _, stderr = whole.communicate(timeout=300)
    duration = time.monotonic() - t0
    expect(whole.returncode == 0, f"undisturbed run: exit {whole.returncode}\n{stderr}")

    rng = random.Random(20261126)
    moments = sorted(rng.uniform(0.05, 1.0) * duration for _ in range(KILLS))
    hit = set()
    for n, moment in enumerate(moments):
        out = env.out(f"crash-{n}")
        proc = start_run(env, out, db)
        time.sleep(moment)
        proc.send_signal(signal.SIGKILL)
        _, stderr = proc.communicate(timeout=60)
        announced = started_steps(stderr)
        completed = max(announced) - 1 if announced else 0  # step k started => 1..k-1 done
        capture = os.path.join(out, "capture.drcap")
        where = f"kill {n} at {moment:.2f} s of {duration:.2f} s (steps started: {announced})"
        hit.add(completed)
        if completed == 0:
            continue  # nothing completed yet: nothing may be lost
        expect(os.path.exists(capture), f"{where}: no capture")
        replayed = env.run_bench("analyze", capture, "--out", env.out(f"crash-{n}-replay"))
        expect(replayed.returncode != 2, f"{where}: the capture is unreadable: {describe(replayed)}")
        with open(os.path.join(env.out(f"crash-{n}-replay"), "report.json")) as f:
            report = json.load(f)
        ok = [s for s in report["steps"] if s["status"] == "ok"]
        expect(len(ok) >= completed, f"{where}: {len(ok)} steps readable, {completed} had completed: "
               f"{report['steps']}")
        if proc.returncode == -signal.SIGKILL and len(ok) < len(report["steps"]):
            expect(report["verdict"] != "pass", f"{where}: a broken-off run replays as a pass")
        if any(s["name"] == "checks" for s in ok):
            expect(report["checks"], f"{where}: the completed checks step replays its checks")

    expect(len(hit) >= 3, f"the kills landed in too few steps to mean much: {sorted(hit)}")
    # The database survived every kill: intact, and it lists the undisturbed run.
    with sqlite3.connect(db) as conn:
        expect(conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "database integrity")
    history = env.run_bench("history", "--db", db, "--json")
    expect(history.returncode == 0, describe(history))
    runs = json.loads(history.stdout)
    runs = runs.get("runs", runs) if isinstance(runs, dict) else runs
    expect(any(r.get("state") == "passed" for r in runs), f"the passed run is listed: {runs}")


if __name__ == "__main__":
    harness.main(globals())
