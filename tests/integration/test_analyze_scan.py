"""`bench analyze-scan` on the committed sample scans of fixtures/scans/ (made by
fixtures/scans/make_scans.py): verdicts, exit codes, reports, and that the X3P and the
ASCII grid of the same map, in every layout found in the field, are judged identically."""
import json
import os

from harness import describe, expect, main

SPEC = ("fixtures", "specs", "DR-192-0.50.yaml")


def analyze(env, name, scan, *extra):
    out = env.out(name)
    proc = env.run_bench("analyze-scan", scan, "--spec", env.path(*SPEC), "--out", out, *extra,
                         timeout=120)
    report = None
    if os.path.exists(os.path.join(out, "report.json")):
        with open(os.path.join(out, "report.json")) as f:
            report = json.load(f)
    return proc, report, out


def sample(env, name):
    return env.path("fixtures", "scans", name)


def checks_by_id(report):
    return {c["id"]: c for c in report["checks"]}


def test_a_good_x3p_scan_passes_depth_and_density(env):
    proc, report, out = analyze(env, "good-x3p", sample(env, "good.x3p"))
    expect(proc.returncode == 0, describe(proc))
    expect(report["verdict"] == "pass", report["verdict"])
    checks = checks_by_id(report)
    expect(sorted(checks) == ["channel_density", "penetration_depth"], sorted(checks))
    expect(abs(checks["penetration_depth"]["value"] - 325) < 3, checks["penetration_depth"])
    expect(checks["channel_density"]["figures"]["channels"]["value"] == 16, checks["channel_density"])
    expect(len(report["rolls"][0]["channels"]) == 16, "16 channels listed")
    expect(report["rig"]["firmware_version"] == "X3P", report["rig"])
    expect("missing_channels" in report["steps"][-1]["message"], report["steps"])
    expect("missing_channels" in proc.stdout and "PASS" in proc.stdout, proc.stdout)
    with open(os.path.join(out, "junit.xml")) as f:
        junit = f.read()
    expect('tests="2" failures="0" errors="0"' in junit, junit[:400])


def test_a_shallow_channel_fails_penetration_depth(env):
    proc, report, out = analyze(env, "shallow", sample(env, "shallow.x3p"))
    expect(proc.returncode == 1, describe(proc))
    depth = checks_by_id(report)["penetration_depth"]
    expect(depth["verdict"] == "fail", depth)
    texts = [f["text"] for f in depth["findings"]]
    # 200 um deep, read to within the noise and what 25 um pixels miss of a pit's bottom.
    named = [t for t in texts if "x=7.20 mm, y=3.75 mm: depth " in t and "below LSL" in t]
    expect(len(named) == 1, texts)
    expect(195.0 <= float(named[0].split("depth ")[1].split(" um")[0]) <= 201.0, named)
    expect(checks_by_id(report)["channel_density"]["verdict"] == "pass", report["checks"])
    with open(os.path.join(out, "junit.xml")) as f:
        expect("<failure" in f.read(), "junit has the failure")


def test_a_corrupt_x3p_is_bad_input_naming_the_file_and_the_problem(env):
    proc, report, _ = analyze(env, "corrupt", sample(env, "corrupt.x3p"))
    expect(proc.returncode == 2, describe(proc))
    expect("corrupt.x3p" in proc.stderr and "MD5ChecksumPointData" in proc.stderr, proc.stderr)
    expect(report is None, "no report for unreadable input")


def test_the_same_map_as_x3p_and_as_csv_gives_identical_results(env):
    _, from_x3p, _ = analyze(env, "same-x3p", sample(env, "good.x3p"))
    proc, from_csv, _ = analyze(env, "same-csv", sample(env, "good.csv"), "--pitch-um", "25")
    expect(proc.returncode == 0, describe(proc))
    expect(from_csv["checks"] == from_x3p["checks"], "checks differ")
    expect(from_csv["rolls"][0]["channels"] == from_x3p["rolls"][0]["channels"], "channels differ")


FIELD_X3P = ["field-folder.x3p", "field-folder-rootlinks.x3p", "field-unprefixed.x3p",
             "field-empty-offset.x3p", "field-axes.x3p", "field-extra-entries.x3p"]


def test_x3p_files_as_found_in_the_field_give_the_results_of_the_standard_one(env):
    _, standard, _ = analyze(env, "field-standard", sample(env, "good.x3p"))
    for name in FIELD_X3P:
        proc, report, _ = analyze(env, name, sample(env, name))
        expect(proc.returncode == 0, f"{name}: {describe(proc)}")
        expect(report["checks"] == standard["checks"], f"{name}: checks differ")
        expect(report["rolls"][0]["channels"] == standard["rolls"][0]["channels"],
               f"{name}: channels differ")
    proc, report, _ = analyze(env, "field-folder-note", sample(env, "field-extra-entries.x3p"))
    expect("main.xml read from the archive's folder 'good/'" in proc.stdout, proc.stdout)
    expect("folder 'good/'" in report["steps"][0]["message"], report["steps"][0])


def test_a_gwyddion_export_gives_its_own_pitch_and_unit(env):
    _, from_csv, _ = analyze(env, "gwy-csv", sample(env, "good.csv"), "--pitch-um", "25")
    proc, from_gwy, _ = analyze(env, "gwy", sample(env, "gwyddion-matrix.txt"))
    expect(proc.returncode == 0, describe(proc))
    expect(from_gwy["checks"] == from_csv["checks"], "checks differ")
    expect(from_gwy["rolls"][0]["channels"] == from_csv["rolls"][0]["channels"], "channels differ")
    expect("419 x 401 points at 25 x 25 um" in proc.stdout, proc.stdout)
    expect("pitch from the Gwyddion header" in from_gwy["steps"][0]["message"], from_gwy["steps"])
    # Options replace the header, and the console says so.
    proc, replaced, _ = analyze(env, "gwy-pitch", sample(env, "gwyddion-matrix.txt"),
                                "--pitch-um", "25", "--unit", "m")
    expect(proc.returncode == 0, describe(proc))
    expect("the pitch given replaces the Gwyddion header's 25 x 25 um" in proc.stdout, proc.stdout)
    expect("the height unit given replaces" in proc.stdout, proc.stdout)
    expect(replaced["checks"] == from_csv["checks"], "checks differ")


def test_a_malformed_gwyddion_header_is_bad_input_naming_file_and_line(env):
    path = env.out("bad-header.txt")
    with open(sample(env, "gwyddion-matrix.txt")) as src, open(path, "w") as dst:
        dst.write(src.read().replace("# Width: 10.025 mm", "# Width: 10.025 furlongs", 1))
    proc, report, _ = analyze(env, "bad-header", path)
    expect(proc.returncode == 2, describe(proc))
    expect("bad-header.txt:2: Gwyddion header Width is '10.025 furlongs'" in proc.stderr,
           proc.stderr)
    expect(report is None, "no report for unreadable input")


def test_a_transposed_csv_gives_the_same_results(env):
    with open(sample(env, "good.csv")) as f:
        rows = [line.strip().split(",") for line in f if not line.startswith("#")]
    path = env.out("transposed.tsv")
    with open(path, "w") as f:
        for column in zip(*rows):
            f.write("\t".join(column) + "\n")
    _, straight, _ = analyze(env, "straight", sample(env, "good.csv"), "--pitch-um", "25")
    proc, transposed, _ = analyze(env, "transposed", path, "--pitch-um", "25", "--transpose")
    expect(proc.returncode == 0, describe(proc))
    expect(transposed["checks"] == straight["checks"], "checks differ")


def test_heights_in_mm_are_converted(env):
    path = env.out("mm.csv")
    with open(sample(env, "good.csv")) as src, open(path, "w") as dst:
        for line in src:
            if not line.startswith("#"):
                dst.write(";".join(f"{float(v) / 1000:.4f}" for v in line.split(",")) + "\n")
    proc, report, _ = analyze(env, "mm", path, "--pitch-um", "25", "--unit", "mm")
    expect(proc.returncode == 0, describe(proc))
    expect(abs(checks_by_id(report)["penetration_depth"]["value"] - 325) < 3, report["checks"])


def test_bad_files_and_options_are_bad_input(env):
    ragged = env.out("ragged.csv")
    with open(ragged, "w") as f:
        f.write("1,2,3\n4,5,6\n7,8\n")
    text_cell = env.out("text.csv")
    with open(text_cell, "w") as f:
        f.write("# header\n1,2,3\n4,x,6\n")
    not_zip = env.out("notzip.x3p")
    with open(not_zip, "w") as f:
        f.write("1,2,3\n")
    cases = [
        ((ragged, "--pitch-um", "20"), "ragged.csv:3: ragged grid"),
        ((text_cell, "--pitch-um", "20"), "text.csv:3:2: cell 2 is 'x', not a number"),
        ((not_zip,), "not a zip archive"),
        ((sample(env, "good.csv"),), "--pitch-um"),
        ((sample(env, "good.csv"), "--pitch-um", "25", "--pitch-x-um", "25"), "not both"),
        ((sample(env, "good.csv"), "--pitch-x-um", "25"), "give --pitch-x-um with --pitch-y-um"),
        ((sample(env, "good.csv"), "--pitch-um", "25", "--unit", "inch"), "unknown height unit"),
        ((sample(env, "good.x3p"), "--pitch-um", "25"), "gives its own pitch"),
        ((sample(env, "good.x3p"), "--format", "tiff"), "unknown scan format"),
        ((env.out("scan.bin"), "--pitch-um", "25"), "--format"),
        ((env.out("absent.csv"), "--pitch-um", "25"), "absent.csv: cannot be opened"),
    ]
    for i, (args, message) in enumerate(cases):
        proc, _, _ = analyze(env, f"bad-{i}", *args)
        expect(proc.returncode == 2, f"{args}: {describe(proc)}")
        expect(message in proc.stderr, f"{args}: expected '{message}' in: {proc.stderr}")


def test_a_scan_without_readable_points_could_not_be_computed(env):
    path = env.out("blank.csv")
    with open(path, "w") as f:
        f.write("NaN,NaN,NaN\nNaN,NaN,NaN\nNaN,NaN,NaN\n")
    proc, report, _ = analyze(env, "blank", path, "--pitch-um", "25")
    expect(proc.returncode == 3, describe(proc))
    expect(report["verdict"] == "error", report["verdict"])


if __name__ == "__main__":
    main(globals())
