#!/usr/bin/python3
"""Self-test of the independent scan generator (tests/scangen/scangen.py): its truth
is what its physics says, its files are what the X3P / ASCII readers expect, and it is
fast and deterministic. Each test_* function runs in turn; exits 1 if any failed.

    /usr/bin/python3 tests/scangen/test_scangen.py [-k NAME]
"""
import hashlib
import io
import json
import math
import os
import re
import sys
import tempfile
import time
import traceback
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scangen  # noqa: E402


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def inside(truth, margin=600.0):
    w = truth["window"]
    return [c for c in truth["channels"]
            if w["x0_um"] + margin <= c["x_um"] <= w["x1_um"] - margin
            and w["y0_um"] + margin <= c["y_um"] <= w["y1_um"] - margin]


def test_truth_depth_is_reference_minus_the_noiseless_floor_on_a_clean_scan():
    for shape in scangen.SHAPES:
        heights, truth = scangen.generate(shape, "clean", 3, pitch_um=5.0, size_mm=(8, 8), keep_layers=True)
        built, reference = truth["_layers"]["built"], truth["_layers"]["reference"]
        p = truth["pitch_um"]
        for c in inside(truth):
            i, j = int(round(c["x_um"] / p)), int(round(c["y_um"] / p))
            patch = built[i - 40:i + 41, j - 40:j + 41]
            lowest = float(patch.min())
            # The tool's reach is the depth; the built grid only samples it, so its lowest
            # pixel is at most the tip rounding's loss over a pixel's offset shallower.
            expect(abs(c["depth_um"] - c["tool_depth_um"]) < 0.05,
                   f"{shape}: depth {c['depth_um']} != tool depth {c['tool_depth_um']}")
            sampled = c["reference_um"] - lowest
            expect(-0.01 <= c["depth_um"] - sampled < 2.0,
                   f"{shape}: truth {c['depth_um']:.2f} vs noiseless floor {sampled:.2f}")
            expect(abs(sampled - c["sampled_depth_um"]) < 1e-6, f"{shape}: sampled depth recorded")
            # Clean: flat reference, so the reference at the centre is the grid's level there.
            expect(abs(reference[i, j] - c["reference_um"]) < 1e-9, "flat reference")
            measured = heights[i - 40:i + 41, j - 40:j + 41]
            expect(abs(float(np.nanmax(c["reference_um"] - measured)) - c["deepest_readable_depth_um"]) < 1e-6,
                   "deepest readable point is the deepest measured point")
            expect(c["floor_readable"], f"{shape}: a clean floor is readable")


def test_depth_excludes_the_rim_and_follows_the_form():
    heights, truth = scangen.generate("cone", "clean", 5, size_mm=(8, 8),
                                      overrides={"rim_max_um": 8.0, "tilt_deg": (2.0, 2.0),
                                                 "radius_mm": (25.0, 25.0), "waviness_um": 10.0},
                                      keep_layers=True)
    expect(truth["rim_max_um"] > 0.5, "the seed makes a rim")
    for c in inside(truth):
        expect(abs(c["depth_um"] - c["tool_depth_um"]) < 0.05, "depth below the form, not the rim")
        # The reference recorded is the form at the centre.
        f = truth["form"]
        expect(f["tilt_deg"] == 2.0 and f["curvature"]["radius_mm"] == 25.0, f)


def test_slopes_beyond_the_acceptance_angle_are_unread():
    over = {"steep_dropout": 1.0, "acceptance_deg": 60.0, "isolated_dropout": 0.0, "spikes_per_mpx": 0.0,
            "dust": 0}
    heights, truth = scangen.generate("cone", "typical", 2, size_mm=(6, 6), overrides=over, keep_layers=True)
    slope = truth["_layers"]["slope_deg"]
    width = truth["instrument"]["acceptance_width_deg"]
    beyond = slope > 60.0 + width
    below = slope < 60.0 - width
    expect(beyond.sum() > 100, f"the cone walls are steep: {beyond.sum()} pixels beyond")
    expect(np.isnan(heights[beyond]).all(), "every pixel beyond the acceptance angle is NaN")
    expect(not np.isnan(heights[below]).any(), "no pixel below the acceptance angle is NaN")
    # With a share < 1, about that share of the steep points is lost.
    over["steep_dropout"] = 0.35
    heights, truth = scangen.generate("cone", "typical", 2, size_mm=(6, 6), overrides=over, keep_layers=True)
    share = float(np.isnan(heights[beyond]).mean())
    expect(abs(share - 0.35) < 0.05, f"share unread beyond the angle {share:.3f}")


def test_curvature_amplitude_is_as_configured():
    for kind_seed in range(6):
        _, truth = scangen.generate("gaussian", "harsh", kind_seed, size_mm=(12, 12),
                                    overrides={"tilt_deg": (0.0, 0.0), "waviness_um": 0.0},
                                    keep_layers=True)
        ref = truth["_layers"]["reference"]
        curv = truth["form"]["curvature"]
        r = curv["radius_mm"] * 1000.0
        ax, ay = curv["apex_um"]
        p = truth["pitch_um"]
        xs = np.arange(ref.shape[0]) * p
        ys = np.arange(ref.shape[1]) * p
        if curv["kind"] == "cylinder_x":
            d = np.abs(xs - ax).max()
            sag = ref[np.argmin(np.abs(xs - ax)), 0] - ref[np.argmax(np.abs(xs - ax)), 0]
        elif curv["kind"] == "cylinder_y":
            d = np.abs(ys - ay).max()
            sag = ref[0, np.argmin(np.abs(ys - ay))] - ref[0, np.argmax(np.abs(ys - ay))]
        else:
            dist = np.hypot(xs[:, None] - ax, ys[None, :] - ay)
            d = dist.max()
            sag = ref.flat[np.argmin(dist)] - ref.flat[np.argmax(dist)]
        expected = r - math.sqrt(r * r - d * d)
        sign = 1 if curv["convex"] else -1
        expect(abs(sign * sag - expected) < 0.01 * expected + 1.0,
               f"{curv['kind']}: sag {sag:.1f} um, expected {expected:.1f} um over {d:.0f} um at R {r:.0f}")
        expect(expected > 500, f"R = 25 mm over 12 mm sags by hundreds of um: {expected:.0f}")


def test_waviness_and_tilt_are_as_configured():
    _, truth = scangen.generate("flat", "typical", 4, size_mm=(10, 10),
                                overrides={"radius_mm": None, "tilt_deg": (1.0, 1.0), "waviness_um": 3.0},
                                keep_layers=True)
    ref = truth["_layers"]["reference"]
    f = truth["form"]
    expect(abs(f["waviness_peak_um"] - 3.0) < 1e-9 and 2 <= len(f["waviness"]) <= 3, f["waviness"])
    for w in f["waviness"]:
        expect(2000 <= w["wavelength_um"] <= 5000, w)
    # Remove the plane: what is left stays within the waviness' peak.
    p = truth["pitch_um"]
    xs, ys = np.meshgrid(np.arange(ref.shape[0]) * p, np.arange(ref.shape[1]) * p, indexing="ij")
    a = np.column_stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])
    coef, *_ = np.linalg.lstsq(a, ref.ravel(), rcond=None)
    expect(abs(math.degrees(math.atan(math.hypot(coef[0], coef[1]))) - 1.0) < 0.05, f"tilt {coef[:2]}")
    rest = ref.ravel() - a @ coef
    expect(np.abs(rest).max() <= 3.0 + 0.5, f"waviness {np.abs(rest).max():.2f} um")


def test_lattice_density_and_spacing_are_the_rollers():
    expect(abs(scangen.NOMINAL_DENSITY_PER_CM2 - 15.279) < 0.01, scangen.NOMINAL_DENSITY_PER_CM2)
    counts = []
    for seed in range(12):
        _, truth = scangen.generate("gaussian", "clean", seed, pitch_um=20.0, size_mm=(20, 20))
        counts.append(truth["channels_in_window"])
        cs = truth["channels"]
        # nearest neighbours along X on a disc are a needle spacing apart (+- jitter)
        for c in cs[:5]:
            same_disc = [d for d in cs if abs(d["y_um"] - c["y_um"]) < 30 and d is not c]
            gap = min(abs(d["x_um"] - c["x_um"]) for d in same_disc)
            expect(abs(gap - scangen.NEEDLE_SPACING_UM) < 30, f"spacing {gap}")
    mean = sum(counts) / len(counts) / 4.0   # per cm2
    expect(abs(mean / scangen.NOMINAL_DENSITY_PER_CM2 - 1) < 0.05, f"density {mean:.2f}")


def test_defects_are_outside_the_spec_and_floors_go_dark_in_harsh():
    _, truth = scangen.generate("flat", "harsh", 8, defects=2, size_mm=(12, 12))
    defects = [c for c in truth["channels"] if c["defect"]]
    expect(len(defects) == 2 and truth["defects"] == 2, defects)
    for c in defects:
        expect(c["depth_um"] < 240 or c["depth_um"] > 410, c)
        expect(c["floor_readable"], "a defect's floor stays readable")
    dark = [c for c in truth["channels"] if c.get("floor_made_unreadable")]
    expect(len(dark) == 2, dark)
    for c in dark:
        expect(not c["floor_readable"] and c["floor_readable_fraction"] == 0.0, c)
        expect(c["deepest_readable_depth_um"] is None or c["deepest_readable_depth_um"] < c["depth_um"] - 5, c)
    expect(truth["spikes"] and truth["dust"], "harsh scans have spikes and dust")


def test_same_arguments_same_scan_other_seed_other_scan():
    a, ta = scangen.generate("teardrop", "typical", 11, size_mm=(5, 5))
    b, tb = scangen.generate("teardrop", "typical", 11, size_mm=(5, 5))
    c, _ = scangen.generate("teardrop", "typical", 12, size_mm=(5, 5))
    expect(np.array_equal(a, b, equal_nan=True) and ta == tb, "deterministic")
    expect(not np.array_equal(a, c, equal_nan=True), "seeded")


def test_teardrops_are_longer_than_wide_with_the_floor_off_centre():
    _, truth = scangen.generate("teardrop", "clean", 6, size_mm=(8, 8))
    sp = truth["shape_params"]
    expect(1.5 <= sp["elongation"] <= 2.5, sp)
    for c in inside(truth):
        ratio = c["opening_half_length_um"] / c["opening_half_width_um"]
        expect(abs(ratio - sp["elongation"]) < 1e-6, f"length / width {ratio}")
        expect(abs(c["opening_centre_x_um"] - c["x_um"]) > 20, "floor nearer one end")


def test_x3p_file_is_the_form_the_reader_accepts():
    heights, truth = scangen.generate("cone", "harsh", 1, size_mm=(3, 2))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "s.x3p")
        scangen.write_x3p(path, heights, truth["pitch_um"], "test")
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            xml = z.read("main.xml")
            data = z.read("bindata/data.bin")
            md5file = z.read("md5checksum.hex").decode()
    expect(names == ["main.xml", "bindata/data.bin", "md5checksum.hex"], names)
    text = xml.decode()
    expect(f"<MD5ChecksumPointData>{hashlib.md5(data).hexdigest()}</MD5ChecksumPointData>" in text, "data MD5")
    expect(md5file.startswith(hashlib.md5(xml).hexdigest()), "main.xml MD5")
    expect("<SizeX>300</SizeX><SizeY>200</SizeY><SizeZ>1</SizeZ>" in text, text)
    expect("<CZ><AxisType>A</AxisType><DataType>F</DataType><Offset>0</Offset></CZ>" in text, text)
    expect(re.search(r"<CX><AxisType>I</AxisType><DataType>D</DataType><Increment>1\.0+E-05</Increment>", text),
           text)
    values = np.frombuffer(data, dtype="<f4").reshape(200, 300).T * 1e6   # X fastest, metres
    expect(np.array_equal(np.isnan(values), np.isnan(heights)), "NaN where unread")
    ok = ~np.isnan(heights)
    expect(np.abs(values[ok] - heights[ok]).max() < 1e-3, "heights in metres, X fastest")
    # The committed sample's main.xml (fixtures/scans/good.x3p) and ours share their structure.
    sample = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "scans", "good.x3p")
    with zipfile.ZipFile(sample) as z:
        fixture = "".join(z.read("main.xml").decode().split())
    text = "".join(text.split())
    for tag in ("<Revision>ISO5436-2000</Revision>", "<FeatureType>SUR</FeatureType>",
                "<PointDataLink>bindata/data.bin</PointDataLink>", "<ChecksumFile>md5checksum.hex</ChecksumFile>"):
        expect(tag in fixture and tag in text, tag)


def test_csv_holds_the_same_map():
    heights, truth = scangen.generate("flat", "typical", 2, size_mm=(1.5, 1.0), pitch_um=10.0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "s.csv")
        scangen.write_csv(path, heights)
        rows = [line.rstrip("\n").split(",") for line in open(path) if not line.startswith("#")]
    expect(len(rows) == heights.shape[0] and all(len(r) == heights.shape[1] for r in rows), "rows along X")
    back = np.array([[float(v) for v in r] for r in rows])
    expect(np.array_equal(np.isnan(back), np.isnan(heights)), "NaN cells")
    ok = ~np.isnan(heights)
    expect(np.abs(back[ok] - heights[ok]).max() <= 0.0005 + 1e-9, "3 decimals")


def test_truth_json_has_the_documented_fields():
    with tempfile.TemporaryDirectory() as tmp:
        paths = scangen.make_scan(tmp, "gaussian", "typical", 1, defects=1, size_mm=(6, 6))
        truth = json.load(open(paths["truth"]))
    for key in ("window", "pitch_um", "noise_sd_um", "grade", "shape", "nominal_density_per_cm2",
                "channels_in_window", "channel_radius_um", "channels"):
        expect(key in truth, key)
    for key in ("x_um", "y_um", "depth_um", "shape", "deepest_readable_depth_um", "floor_readable", "defect",
                "in_window", "opening_half_length_um", "opening_half_width_um"):
        expect(key in truth["channels"][0], key)
    counted = sum(1 for c in truth["channels"] if c["in_window"])
    expect(counted == truth["channels_in_window"], "count of channels whose centre is in the window")


def test_a_full_size_scan_is_fast():
    started = time.monotonic()
    heights, _ = scangen.generate("cone", "harsh", 1)
    seconds = time.monotonic() - started
    expect(heights.shape == (1200, 1200), heights.shape)
    expect(seconds < 2.0, f"1200 x 1200 harsh scan took {seconds:.2f} s")
    print(f"  1200 x 1200 harsh cone scan: {seconds:.2f} s")


def main():
    only = sys.argv[sys.argv.index("-k") + 1] if "-k" in sys.argv else ""
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and callable(f) and only in n]
    failed = []
    for name, fn in tests:
        started = time.monotonic()
        try:
            fn()
            print(f"PASS {name} ({time.monotonic() - started:.1f} s)", flush=True)
        except Exception:
            failed.append(name)
            print(f"FAIL {name} ({time.monotonic() - started:.1f} s)", flush=True)
            traceback.print_exc()
    print(f"{len(tests) - len(failed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
