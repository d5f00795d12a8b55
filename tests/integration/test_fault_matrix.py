"""The fault matrix: every fault rigsim can inject, at several moments of a run, ends in the
expected outcome and never in a wrong pass.

Each case runs the quick suite on the virtual rig with `bench run --faults SPEC --seed`
(fixtures/rigsim/FAULTS.md) and checks the exit code, the verdict, what the report says
went wrong, and, against rigsim's truth file (its "faults" account), the rule that holds
for every case: a run whose data the faults damaged is never a pass. Faults that only delay
or that the protocol absorbs (a short stall, duplicated frames, a lost Ack) must leave a
nominal roller passing, and a defective roller failing.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import describe, expect  # noqa: E402

QUICK = "quick-DR-192-0.50.yaml"
NOMINAL = "nominal-DR-192-0.50"
SCAN_CHECKS = {"penetration_depth", "channel_density", "depth_uniformity"}


def run_with_faults(env, name, faults, roller=NOMINAL, suite=None, seed=7):
    out = env.out(name)
    shutil.rmtree(out, ignore_errors=True)
    suite = suite or env.path("fixtures", "suites", QUICK)
    args = ["run", suite, "--rig", "sim", "--roller", env.roller(roller), "--out", out, "--quiet",
            "--seed", str(seed)]
    if faults:
        args += ["--faults", faults]
    proc = env.run_bench(*args, timeout=120)
    report = truth = None
    if os.path.exists(os.path.join(out, "report.json")):
        with open(os.path.join(out, "report.json")) as f:
            report = json.load(f)
    if os.path.exists(os.path.join(out, "rigsim-truth.json")):
        with open(os.path.join(out, "rigsim-truth.json")) as f:
            truth = json.load(f)
    return proc, report, truth


def never_a_wrong_pass(faults, proc, report, truth):
    expect(report is not None, f"{faults}: no report.json\n{describe(proc)}")
    expect(truth is not None and "faults" in truth, f"{faults}: no fault account in the truth file")
    if truth["faults"]["data_damaged"]:
        expect(report["verdict"] != "pass" and proc.returncode != 0,
               f"{faults}: damaged data passed: {truth['faults']}")


def checks_by_verdict(report, verdict):
    return {c["id"] for c in report.get("checks", []) if c["verdict"] == verdict}


# (fault spec, expected exit code, text the report's error must contain, or the set of
# checks that must end in error). Moments: at the start, part-way and near the end.
RIG_FAULTS = [
    ("reboot@home1", 3, "Reboot"),
    ("reboot@roll1+10%", 3, "Reboot"),
    ("reboot@roll1+90%", 3, "Reboot"),
    ("reboot@scan1+50%", 3, "Reboot"),
    ("estop@roll1+50%", 3, "EStop"),
    ("estop@scan1", 3, "EStop"),
    ("estop@home1:1s", 3, "EStop"),
    ("overload@roll1+20%", 3, "ForceOverload"),
    ("overload@roll1+95%", 3, "ForceOverload"),
    ("vanish@roll1+30%:1s", 3, "disconnected"),
    ("vanish@scan1+60%:500ms", 3, "disconnected"),
    ("vanish@home1:500ms", 3, "disconnected"),
    ("saturate@roll1+10%", 3, {"force_consistency"}),
    ("saturate@roll1+97%", 3, {"force_consistency"}),
    ("freeze@roll1+30%", 3, {"force_consistency"}),
    ("freeze@roll1+97%", 3, {"force_consistency"}),
    ("truncate@scan1+10%", 3, SCAN_CHECKS),
    ("truncate@scan1+99%", 3, SCAN_CHECKS),
]

LINE_FAULTS = [
    ("bit_errors>host@roll1:2e-5", 3, {"force_consistency", "roll_slip"} | SCAN_CHECKS),
    ("bit_errors>host@scan1+50%:1e-5", 3, SCAN_CHECKS),
    ("drop_bytes>host@roll1+50%:1e-4", 3, {"force_consistency"}),
    ("dup_bytes>host@scan1:1e-4", 3, SCAN_CHECKS),
    ("swap_bytes>host@roll1:1e-4", 3, {"force_consistency"}),
    ("drop_frames>host@roll1+80%:0.25", 3, {"force_consistency"}),
    ("swap_frames>host@scan1:0.05", 3, SCAN_CHECKS),
]


def test_rig_faults_end_in_a_rig_error_or_an_error_verdict_at_every_moment(env):
    for faults, code, expected in RIG_FAULTS:
        proc, report, truth = run_with_faults(env, "rig-" + faults.replace("@", "-").replace(":", "-"),
                                              faults)
        never_a_wrong_pass(faults, proc, report, truth)
        expect(proc.returncode == code, f"{faults}: exit {proc.returncode}\n{describe(proc)}")
        expect(report["verdict"] == "error", f"{faults}: verdict {report['verdict']}")
        expect(all(e["fired"] for e in truth["faults"]["events"]), f"{faults}: did not fire")
        if isinstance(expected, str):
            expect(expected in (report["error"] or ""), f"{faults}: error {report['error']!r}")
        else:
            errored = checks_by_verdict(report, "error")
            expect(expected <= errored, f"{faults}: errored checks {errored}, expected {expected}")


def test_damage_on_the_line_makes_the_checks_on_that_data_errors(env):
    for faults, code, must_error in LINE_FAULTS:
        proc, report, truth = run_with_faults(env, "line-" + faults.replace(">", "-").replace("@", "-")
                                              .replace(":", "-"), faults)
        never_a_wrong_pass(faults, proc, report, truth)
        expect(truth["faults"]["data_damaged"], f"{faults}: expected damage, got {truth['faults']}")
        expect(proc.returncode == code, f"{faults}: exit {proc.returncode}\n{describe(proc)}")
        errored = checks_by_verdict(report, "error")
        expect(must_error <= errored, f"{faults}: errored checks {errored}, expected {must_error}")
        if "@scan" in faults:
            # The roll's own checks stand on undamaged samples.
            expect("force_consistency" in checks_by_verdict(report, "pass"), f"{faults}: {report['checks']}")


def test_corrupt_frames_are_counted_in_the_report(env):
    proc, report, truth = run_with_faults(env, "counted", "bit_errors>host@scan1:1e-5")
    never_a_wrong_pass("bit_errors", proc, report, truth)
    link = report["link"]
    rejected = link["crc_errors"] + link["cobs_errors"] + link["runt_frames"] + link["length_mismatches"] \
        + link["oversize_frames"] + link["version_errors"]
    expect(rejected > 0 and link["bytes_discarded"] > 0, f"link counters {link}")
    expect(truth["faults"]["to_host"]["bits_flipped"] > 0, truth["faults"])


def test_faults_the_protocol_absorbs_leave_a_nominal_roller_passing(env):
    for faults in ["stall@roll1+50%:1s", "stall@scan1+20%:1s", "dup_frames>host:0.05",
                   "lose_ack@home1,lose_ack@scan1"]:
        proc, report, truth = run_with_faults(env, "absorbed-" + str(abs(hash(faults))), faults)
        never_a_wrong_pass(faults, proc, report, truth)
        expect(not truth["faults"]["data_damaged"], f"{faults}: {truth['faults']}")
        expect(proc.returncode == 0 and report["verdict"] == "pass",
               f"{faults}: exit {proc.returncode}, {report['verdict']}: {report.get('error')}")


def test_a_retried_roll_is_answered_from_the_cache_and_rolled_once(env):
    # The Ack of the Roll is lost and the rig stalls long enough for the host to retry it
    # (after 500 ms) but not so long that its four attempts (2 s) run out: the rig answers
    # the retry from its de-duplication cache and rolls once.
    proc, report, truth = run_with_faults(env, "retried-roll", "lose_ack@roll1,stall@roll1:1200ms")
    expect(proc.returncode == 0 and report["verdict"] == "pass", describe(proc))
    expect(truth["duplicates_answered"] >= 1, f"no retry reached the rig: {truth['duplicates_answered']}")
    expect(len(truth["rolls"]) == 1, f"the rig rolled {len(truth['rolls'])} times")


def test_requests_lost_on_the_way_to_the_rig_are_retried_safely(env):
    # Host-to-rig damage costs retries (same seq), never a second motion.
    for faults in ["drop_frames>rig:0.15", "bit_errors>rig:2e-4"]:
        proc, report, truth = run_with_faults(env, "to-rig-" + str(abs(hash(faults))), faults)
        never_a_wrong_pass(faults, proc, report, truth)
        expect(len(truth["rolls"]) <= 1 and len(truth["scans"]) <= 1, f"{faults}: {len(truth['rolls'])} rolls")
        expect(proc.returncode in (0, 3), f"{faults}: {describe(proc)}")


def test_a_stall_longer_than_the_hosts_limit_is_aborted_as_a_rig_error(env):
    proc, report, truth = run_with_faults(env, "long-stall", "stall@roll1+50%:6s")
    expect(proc.returncode == 3, describe(proc))
    # The host gives up on the silent rig (a stalled stream, or an Ack stuck behind the
    # stall: whichever its timers see first), and its Abort stops the roll.
    expect("rig error (timeout)" in (report["error"] or ""), report["error"])
    expect(truth["rolls"][0]["aborted"], "the host's Abort stopped the roll")


def test_a_defective_roller_still_fails_through_absorbed_faults(env):
    proc, report, truth = run_with_faults(env, "defect-stall", "stall@roll1+50%:1s,dup_frames>host:0.02",
                                          roller="defect-bent")
    expect(proc.returncode == 1 and report["verdict"] == "fail", describe(proc))


def test_faults_in_a_roller_file_and_in_a_suite_are_injected(env):
    with open(env.roller(NOMINAL)) as f:
        roller_text = f.read()
    roller = env.out("faulty-roller.yaml")
    with open(roller, "w") as f:
        f.write(roller_text + "\nfaults: [reboot@roll1+50%]\n")
    out = env.out("roller-faults")
    proc = env.run_bench("run", env.path("fixtures", "suites", QUICK), "--rig", "sim", "--roller", roller,
                         "--out", out, "--quiet")
    expect(proc.returncode == 3, describe(proc))
    with open(os.path.join(out, "report.json")) as f:
        expect("Reboot" in json.load(f)["error"], "roller file faults were injected")

    with open(env.path("fixtures", "suites", QUICK)) as f:
        suite_text = f.read().replace("../specs/", env.path("fixtures", "specs") + "/")
    suite = env.out("faulty-suite.yaml")
    with open(suite, "w") as f:
        f.write(suite_text.replace("watchdog_ms: 1000", "watchdog_ms: 1000\nfaults: truncate@scan1+50%"))
    proc, report, truth = run_with_faults(env, "suite-faults", "", suite=suite)
    expect(proc.returncode == 3, describe(proc))
    expect(SCAN_CHECKS <= checks_by_verdict(report, "error"), report["checks"])
    # A suite that asks for faults cannot run on a real rig.
    proc = env.run_bench("run", suite, "--rig", "/dev/ttyDOESNOTEXIST", "--serial", "X",
                         "--out", env.out("suite-faults-device"))
    expect(proc.returncode == 2 and "--rig sim" in proc.stdout + proc.stderr, describe(proc))


def test_a_bad_fault_spec_is_refused_naming_the_item(env):
    for spec, needle in [("reboot", "needs a moment"), ("bit_errors:2", "rate"),
                         ("wobble@roll1", "unknown fault 'wobble'"), ("freeze@scan1", "only during a roll"),
                         ("vanish@roll1", "needs a duration"), ("reboot@roll1+150%", "percentage")]:
        proc = env.run_bench("run", env.path("fixtures", "suites", QUICK), "--rig", "sim", "--roller",
                             env.roller(NOMINAL), "--out", env.out("bad-spec"), "--quiet", "--faults", spec)
        expect(proc.returncode == 2, f"{spec}: {describe(proc)}")
        expect(needle in proc.stdout + proc.stderr, f"{spec}: {proc.stdout + proc.stderr}")


def test_the_same_seed_injects_the_same_faults(env):
    faults = "bit_errors>host@scan1:1e-5,drop_frames>host@roll1:0.03"
    _, first, truth1 = run_with_faults(env, "seeded-1", faults, seed=11)
    _, second, truth2 = run_with_faults(env, "seeded-2", faults, seed=11)
    expect(truth1["faults"]["to_host"] == truth2["faults"]["to_host"],
           f"{truth1['faults']['to_host']} != {truth2['faults']['to_host']}")
    summary = lambda r: [(c["id"], c["verdict"], c["summary"]) for c in r["checks"]]  # noqa: E731
    expect(summary(first) == summary(second), "same seed, same verdicts")


def test_the_daemon_survives_a_vanishing_port_and_a_rebooting_rig(env):
    """bench serve holding a standalone rigsim whose port vanishes mid-roll, then whose
    firmware reboots mid-roll: each run ends in error, the daemon reconnects by itself (the
    same rigsim process, no restart of either), motion is stopped, and the next run passes."""
    import time
    from test_serve_reconnect import Daemon
    link = env.out("fault-rig")
    truth_file = env.out("fault-rig-truth.json")
    rigsim = subprocess.Popen([env.rigsim, "--roller", env.roller(NOMINAL), "--link", link,
                               "--serial", "RIGSIM-FAULTS", "--truth", truth_file, "--faults",
                               "vanish@roll1+40%:1500ms,reboot@roll2+40%"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    daemon = None
    try:
        for _ in range(500):
            if os.path.islink(link):
                break
            time.sleep(0.01)
        daemon = Daemon(env, link, env.out("fault-serve-data"))
        daemon.wait_rig(lambda r: r["state"] == "connected", "connected")
        for n, (expected, why) in enumerate([("error", "disconnected"), ("error", "Reboot"),
                                             ("passed", None)]):
            row = daemon.run_quick(f"SIM-FAULTS-{n}")
            expect(row["state"] == expected, f"run {n}: expected {expected}, got {row}")
            if why:
                expect(row["exit_code"] == 3 and why in row["error"], f"run {n}: {row}")
            daemon.wait_rig(lambda r: r["state"] == "connected", "connected again")
        expect(rigsim.poll() is None, "the same rigsim served every run")
        expect(daemon.rig()["reconnects"] >= 1, f"the daemon reconnected: {daemon.rig()}")
    finally:
        if daemon:
            daemon.stop()
        rigsim.terminate()
        rigsim.wait(timeout=10)
    with open(truth_file) as f:
        truth = json.load(f)
    # The first two rolls were stopped (the watchdog or the Abort sent on reconnect, and the
    # reboot), the third completed; no roll was repeated behind the host's back.
    expect([r["aborted"] for r in truth["rolls"]] == [True, True, False],
           f"rolls: {[(r['lane'], r['aborted']) for r in truth['rolls']]}")

if __name__ == "__main__":
    harness.main(globals())
