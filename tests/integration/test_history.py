"""The results database: `bench run --db` records runs, `bench history` and `bench show` read
them back, and `bench audit verify` vouches for the audit log until someone edits it behind
bench's back."""
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import describe, expect, main  # noqa: E402


def recorded_runs(env):
    """Two runs (nominal: pass, bent needle: fail) recorded in one database, made once."""
    db = env.out("history.db")
    if not os.path.exists(db):
        for roller, code in [("nominal-DR-192-0.50", 0), ("defect-bent", 1)]:
            proc, _, _ = env.run_suite("DR-192-0.50", roller, "history-" + roller, "--db", db,
                                       "--quiet")
            expect(proc.returncode == code, describe(proc))
            expect("recorded: run" in proc.stdout, describe(proc))
    return db


def test_history_lists_recorded_runs_newest_first(env):
    db = recorded_runs(env)
    proc = env.run_bench("history", "--db", db, "--json")
    expect(proc.returncode == 0, describe(proc))
    runs = json.loads(proc.stdout)["runs"]
    expect([r["state"] for r in runs] == ["failed", "passed"], f"states: {runs}")
    expect([r["verdict"] for r in runs] == ["fail", "pass"], f"verdicts: {runs}")
    expect(runs[0]["roller_serial"] == "SIM-D-BENT", f"roller: {runs[0]}")
    expect(runs[0]["spec_model"] == "DR-192-0.50", f"spec: {runs[0]}")
    expect(len(runs[0]["spec_sha256"]) == 64, f"spec hash: {runs[0]}")
    expect(runs[0]["rig_serial"] != "" and runs[0]["exit_code"] == 1, f"rig: {runs[0]}")

    failed = env.run_bench("history", "--db", db, "--state", "failed", "--json")
    expect([r["id"] for r in json.loads(failed.stdout)["runs"]] == [runs[0]["id"]], describe(failed))
    table = env.run_bench("history", "--db", db, "--roller", "SIM-N192-050")
    expect(table.returncode == 0 and "SIM-N192-050" in table.stdout, describe(table))
    expect("SIM-D-BENT" not in table.stdout, describe(table))
    bad = env.run_bench("history", "--db", db, "--state", "finished")
    expect(bad.returncode == 2 and "finished" in bad.stderr, describe(bad))


def test_show_gives_a_run_with_its_checks(env):
    db = recorded_runs(env)
    proc = env.run_bench("show", "2", "--db", db, "--json")
    expect(proc.returncode == 0, describe(proc))
    run = json.loads(proc.stdout)
    with open(os.path.join(env.out("history-defect-bent"), "report.json")) as f:
        report = json.load(f)
    expect([c["id"] for c in run["checks"]] == [c["id"] for c in report["checks"]],
           f"checks differ: {run['checks']}")
    depth = next(c for c in run["checks"] if c["id"] == "penetration_depth")
    expect(depth["verdict"] == "fail", f"penetration_depth: {depth}")
    # The method that judged it, as its report.json names it.
    expect(run["analysis_method"] == report["analysis_method"]["version"] >= 2,
           f"analysis method: {run['analysis_method']}, report {report['analysis_method']}")
    text = env.run_bench("show", "2", "--db", db)
    expect(text.returncode == 0 and "penetration_depth" in text.stdout, describe(text))
    expect(f"method {run['analysis_method']}:" in text.stdout, describe(text))
    missing = env.run_bench("show", "99", "--db", db)
    expect(missing.returncode == 2 and "99" in missing.stderr, describe(missing))


def test_audit_log_records_each_run_and_verifies(env):
    db = recorded_runs(env)
    proc = env.run_bench("audit", "log", "--db", db, "--json")
    expect(proc.returncode == 0, describe(proc))
    entries = json.loads(proc.stdout)["entries"]
    expect([e["action"] for e in entries] == ["run.start", "run.finish"] * 2, f"{entries}")
    expect(all(e["origin"] == "cli" for e in entries), f"{entries}")
    verify = env.run_bench("audit", "verify", "--db", db)
    expect(verify.returncode == 0 and "intact" in verify.stdout, describe(verify))


def test_audit_verify_names_an_entry_edited_behind_the_triggers(env):
    db = recorded_runs(env)
    tampered = env.out("tampered.db")
    with sqlite3.connect(db) as src, sqlite3.connect(tampered) as dst:
        src.backup(dst)
    con = sqlite3.connect(tampered)
    try:
        con.execute("UPDATE audit_log SET detail = '{}' WHERE seq = 4")
        raise AssertionError("the trigger let an audit entry be changed")
    except sqlite3.DatabaseError as e:
        expect("append-only" in str(e), str(e))
    con.execute("DROP TRIGGER audit_log_no_update")
    con.execute("UPDATE audit_log SET detail = replace(detail, '\"fail\"', '\"pass\"') WHERE seq = 4")
    con.commit()
    con.close()
    proc = env.run_bench("audit", "verify", "--db", tampered)
    expect(proc.returncode == 1, describe(proc))
    expect("entry 4" in proc.stdout and "hash mismatch" in proc.stdout, describe(proc))


if __name__ == "__main__":
    main(globals())
