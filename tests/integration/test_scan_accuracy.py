"""`bench analyze-scan` on scans that nobody here made: a small run of
scripts/scan-accuracy-study (the independent generator tests/scangen, docs/scan-accuracy.md).

Typical grade (gentle form, 0.5 um noise, dropouts past 70 deg, a spike or two, dust):
recall and precision >= 99.5 %, |depth bias| <= 2 um, RMS <= 3 um, worst <= 10 um, no
channel deeper than its deepest readable point + 3 sigma, density within 2 %, no wrong pass
and no nominal scan rejected. Harsh grade (R = 25 mm, 2 deg tilt, 1 um noise, unreadable
floors): never a wrong pass, and every unreadable floor reported as unmeasured or measured
within the worst-error target, but for a known gap (UNFLAGGED_FLOORS_ALLOWED below).

Needs numpy: CTest runs it with /usr/bin/python3. About 15 s on 2 cores (48 scans).
"""
import json
import os
import subprocess
import sys

from harness import describe, expect, main

SHAPES = "gaussian,cone,flat,teardrop"


def study(env, name, grades, seeds):
    out = env.out(name + ".json")
    proc = subprocess.run(
        [sys.executable, env.path("scripts", "scan-accuracy-study"), "--bin-dir", env.bin,
         "--shapes", SHAPES, "--grades", grades, "--seeds", str(seeds), "--first-seed", "101",
         "--jobs", "2", "--json", out],
        capture_output=True, text=True, errors="replace", timeout=540)
    print(proc.stdout, flush=True)
    expect(proc.returncode in (0, 1) and os.path.exists(out), describe(proc))
    with open(out) as f:
        figures = json.load(f)
    return proc, figures


def misses(figures, grade):
    """The targets missed, and how to look at the scans (the test keeps only the figures)."""
    missed = [f"{t['target']}: worst {t['worst_shape']} = {t['worst_value']}"
              for t in figures["targets"] if t["grade"] == grade and not t["met"]]
    if missed:
        missed.append(f"to see the scans and reports: scripts/scan-accuracy-study --grades {grade} "
                      f"--seeds {figures['seeds']} --first-seed {figures['first_seed']} --keep DIR")
    return missed


def test_typical_scans_are_measured_within_the_targets(env):
    _, figures = study(env, "typical", "typical", seeds=3)
    expect(not any(s.get("broken") for s in figures["scans"]), [s["broken"] for s in figures["scans"]
                                                                 if s.get("broken")])
    missed = misses(figures, "typical")
    expect(not missed, "typical grade misses: " + "; ".join(missed))


# Known gap (docs/accuracy.md): where the scanner loses a teardrop's floor, the ramp running
# down into it can still be taken for the floor, read shallow: 5 of 40 lost teardrop floors,
# 5 of 164 lost floors of every shape, in the 10-seed study. The harsh test holds the line
# at a tenth of all lost floors until the gap is closed.
UNFLAGGED_FLOORS_ALLOWED = 0.10


def test_harsh_scans_never_pass_wrongly(env):
    _, figures = study(env, "harsh", "harsh", seeds=3)
    wrong = [s["name"] for s in figures["scans"] if s["wrong_pass"]]
    expect(not wrong, f"wrong passes: {wrong}")
    lost = sum(s["unreadable_floors"] for s in figures["scans"])
    unflagged = sum(s["unreadable_floors_unflagged"] for s in figures["scans"])
    expect(lost > 0, "the harsh scans hold no unreadable floor: the test tests nothing")
    expect(unflagged <= UNFLAGGED_FLOORS_ALLOWED * lost,
           f"{unflagged} of {lost} unreadable floors neither flagged nor measured right")
    missed = [m for m in misses(figures, "harsh") if not m.startswith("every unreadable floor")]
    expect(not missed or missed[0].startswith("to see"), "harsh grade misses: " + "; ".join(missed))


if __name__ == "__main__":
    main(globals())
