"""Every defect kind of DESIGN section 6 is caught by its check from the smallest magnitude
that puts a DR-192-0.50 roller out of its spec upward, and a defect well inside the spec
(0.6x that magnitude) passes the same check: the limits sit where the spec says.

The threshold of each kind is derived here from the spec's limits and the virtual rig's
physics (fixtures/rollers/README.md), not read off a run:
  - bent / blunt: the needle's channel depth L_eff * f * recovery reaches the LSL less a guard
    of 3 sigma of a good needle's own random spread (length sd 8 um times f, and the
    per-puncture jitter of f, 0.005 * L_eff): below the guard a defect is out of spec, but a
    lucky needle could still scrape past the LSL;
  - eccentric: half the runout reaches the depth (cos amplitude runout / 2, force control
    absorbs the other half) and must exceed max_runout_um plus 3 sigma of the amplitude's fit
    error (residual sd of depth * sqrt(2 / n channels), the residual being the needles' own
    spread and the measurement's on the virtual rig's typical scanner);
  - tilt: half the tilt reaches the depth, over max_tilt_um_per_mm plus 3 sigma of the
    slope's fit error (residual sd / (sd of the disc positions * sqrt(n)));
  - slip: the drum turns (1 - f) of the travel, slip % = 100 f (+ 0-0.2 % micro-slip, which
    only adds), over max_percent plus 3 sigma of an encoder count over the steady travel;
  - missing: any missing needle.
Needle defects at 1.0x, 1.5x and 3x sit on three needles of one roller, so the check must
name exactly those three. Runs go two at a time.
"""
import concurrent.futures
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import check_of, describe, expect, main  # noqa: E402

MODEL = "DR-192-0.50"
SEED = 102
GEOMETRY = ("{discs: 8, needles_per_disc: 24, drum_diameter_mm: 20.0, width_mm: 20.0,\n"
            "           needle_length_mm: 0.50, needle_diameter_mm: 0.25}")
SCALES = (1.0, 1.5, 3.0)
BELOW = 0.6
# Needles carrying the 1.0x, 1.5x and 3x defect, on both disc parities and spread around.
NEEDLES = [(1, 0), (4, 9), (6, 17)]
BELOW_NEEDLE = (3, 5)

# The virtual rig's physics (fixtures/rollers/README.md).
MAX_FRACTION = 0.78
FRACTION_JITTER = 0.005
LENGTH_SD_UM = 8.0
SCAN_DELAY_S = 3.0  # ~2-3 s in the fast mode; recovery at 3 s is 0.1 %
ENCODER_COUNTS = 4096
# The measurement, on the virtual rig's default (typical) scanner: a floor rounded to
# FLOOR_RADIUS_UM read at SCAN_PITCH_UM reads shallower by r^2 / (2 rho) where its bottom
# falls r from the nearest pixel (docs/measurement.md section 3); with the offset uniform over
# a pixel, r^2 has sd 0.105 pitch^2. Beside it the floor's noise (0.4 um, averaged a little).
FLOOR_RADIUS_UM = 20.0
SCAN_PITCH_UM = 20.0
SCANNER_NOISE_UM = 0.4
MEASUREMENT_SD_UM = math.hypot(0.105 * SCAN_PITCH_UM ** 2 / (2 * FLOOR_RADIUS_UM), SCANNER_NOISE_UM)


def spec_limits(env):
    """(name, key) -> number from the spec's `limits:` block, e.g. ('penetration_depth', 'lsl_um')."""
    with open(env.path("fixtures", "specs", f"{MODEL}.yaml")) as f:
        text = f.read()
    limits = {}
    for name, body in re.findall(r"(?m)^  (\w+): \{([^}]*)\}", text):
        for key, value in re.findall(r"(\w+):\s*([-\d.]+)", body):
            limits[(name, key)] = float(value)
    return limits


def suite_roll(env):
    with open(env.suite(MODEL)) as f:
        text = f.read()
    roll = re.search(r"roll: \{([^}]*)\}", text).group(1)
    return {k: float(v) for k, v in re.findall(r"(\w+):\s*([-\d.]+)", roll)}


class Physics:
    """Depth of a DR-192-0.50 needle in the rig under the suite's load, and the thresholds."""

    def __init__(self, env):
        self.limits = spec_limits(env)
        roll = suite_roll(env)
        self.length_um, self.diameter_mm, self.radius_mm = 500.0, 0.25, 10.0
        self.needles, self.discs = 192, 8
        in_contact = self.needles * 2 * math.acos(
            self.radius_mm / (self.radius_mm + self.length_um / 1000)) / (2 * math.pi)
        self.per_needle_over_ref = roll["load_N"] * 1000 / in_contact / (300 * self.diameter_mm / 0.25)
        self.recovery = 1 - 0.10 * (1 - math.exp(-SCAN_DELAY_S / 300))
        self.stroke_um = roll["stroke_mm"] * 1000

    def fraction(self, force_factor=1.0):
        return MAX_FRACTION * (1 - math.exp(-self.per_needle_over_ref / force_factor))

    def needle_sigma_um(self, fraction, length_um):
        return math.hypot(LENGTH_SD_UM * fraction, FRACTION_JITTER * length_um)

    def lsl_with_guard(self, fraction, length_um):
        return self.limits[("penetration_depth", "lsl_um")] - 3 * self.needle_sigma_um(fraction, length_um)

    def bent_loss_um(self):
        f = self.fraction()
        # Iterate: the guard depends (weakly) on the shortened length.
        loss = 0.0
        for _ in range(5):
            loss = self.length_um - self.lsl_with_guard(f, self.length_um - loss) / (f * self.recovery)
        return loss

    def blunt_force_factor(self):
        target = self.lsl_with_guard(0.5, self.length_um) / (self.length_um * self.recovery)
        for _ in range(5):  # the guard depends on f through the length spread
            target = self.lsl_with_guard(target, self.length_um) / (self.length_um * self.recovery)
        return self.per_needle_over_ref / -math.log(1 - target / MAX_FRACTION)

    def fit_residual_um(self):
        """The depths' scatter about the drum's fit: the needles' own, and the measurement's."""
        f = self.fraction()
        return math.hypot(self.needle_sigma_um(f, self.length_um), MEASUREMENT_SD_UM)

    def channels_in_scan(self):
        return self.needles * 70.0 / (math.pi * 2 * self.radius_mm)  # 70 mm scanned

    def eccentric_runout_um(self):
        sigma = self.fit_residual_um() * math.sqrt(2 / self.channels_in_scan())
        return 2 * (self.limits[("depth_uniformity", "max_runout_um")] + 3 * sigma)

    def tilt_um_per_mm(self):
        pitch_mm = 2 * self.radius_mm / self.discs  # width / discs on a square drum
        sd_y_mm = pitch_mm * math.sqrt((self.discs ** 2 - 1) / 12)
        sigma = self.fit_residual_um() / (sd_y_mm * math.sqrt(self.channels_in_scan()))
        return 2 * (self.limits[("depth_uniformity", "max_tilt_um_per_mm")] + 3 * sigma)

    def slip_fraction(self):
        count_um = 2 * math.pi * self.radius_mm * 1000 / ENCODER_COUNTS
        sigma_percent = 100 * count_um / self.stroke_um
        return (self.limits[("roll_slip", "max_percent")] + 3 * sigma_percent) / 100


def roller_text(name, defects):
    head = (f"model: {MODEL}\nserial: THR-{name}\ngeometry: {GEOMETRY}\n"
            f"variation: {{length_sd_um: {LENGTH_SD_UM:g}}}\nseed: {SEED}\n")
    return head + "defects:\n" + "".join(f"  - {{{d}}}\n" for d in defects)


def plan(physics):
    """name -> (defect lines, the check that must judge it, the verdict it must reach)."""
    bent, blunt = physics.bent_loss_um(), physics.blunt_force_factor()
    runs = {
        "bent": ([f"kind: bent, disc: {d}, index: {i}, length_loss_um: {bent * s:.1f}"
                  for (d, i), s in zip(NEEDLES, SCALES)], "penetration_depth", "fail"),
        "bent-below": ([f"kind: bent, disc: {BELOW_NEEDLE[0]}, index: {BELOW_NEEDLE[1]}, "
                        f"length_loss_um: {bent * BELOW:.1f}"], "penetration_depth", "pass"),
        "blunt": ([f"kind: blunt, disc: {d}, index: {i}, force_factor: {blunt * s:.3f}"
                   for (d, i), s in zip(NEEDLES, SCALES)], "penetration_depth", "fail"),
        "blunt-below": ([f"kind: blunt, disc: {BELOW_NEEDLE[0]}, index: {BELOW_NEEDLE[1]}, "
                         f"force_factor: {blunt * BELOW:.3f}"], "penetration_depth", "pass"),
        "missing": ([f"kind: missing, disc: {NEEDLES[0][0]}, index: {NEEDLES[0][1]}"],
                    "missing_channels", "fail"),
    }
    drum = {"eccentric": ("runout_um", physics.eccentric_runout_um(), "depth_uniformity"),
            "tilt": ("um_per_mm", physics.tilt_um_per_mm(), "depth_uniformity"),
            "slip": ("fraction", physics.slip_fraction(), "roll_slip")}
    for kind, (key, threshold, check) in drum.items():
        for scale in SCALES + (BELOW,):
            verdict = "pass" if scale == BELOW else "fail"
            runs[f"{kind}-{scale:g}x"] = ([f"kind: {kind}, {key}: {threshold * scale:.4f}"], check,
                                          verdict)
    return runs


_results = {}


def results(env):
    """Runs every planned roller once (two at a time) and keeps the reports."""
    if _results:
        return _results
    physics = Physics(env)
    print(f"  thresholds: bent {physics.bent_loss_um():.1f} um, blunt x{physics.blunt_force_factor():.3f}, "
          f"eccentric {physics.eccentric_runout_um():.2f} um, tilt {physics.tilt_um_per_mm():.3f} um/mm, "
          f"slip {100 * physics.slip_fraction():.2f} %")

    def run(name, defects):
        roller = env.out(f"{name}.yaml")
        with open(roller, "w") as f:
            f.write(roller_text(name, defects))
        out = env.out(name)
        proc = env.run_bench("run", env.suite(MODEL), "--rig", "sim", "--roller", roller, "--out", out,
                             "--quiet")
        report = None
        if os.path.exists(os.path.join(out, "report.json")):
            with open(os.path.join(out, "report.json")) as f:
                report = json.load(f)
        return proc, report

    runs = plan(physics)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(run, name, defects) for name, (defects, _, _) in runs.items()}
        for name, (defects, check, verdict) in runs.items():
            proc, report = futures[name].result()
            _results[name] = (defects, check, verdict, proc, report)
    return _results


def judged(env, name):
    defects, check_id, verdict, proc, report = results(env)[name]
    expect(report is not None, f"{name}: no report\n{describe(proc)}")
    check = check_of(report, check_id)
    expect(check["verdict"] == verdict,
           f"{name} ({defects}): {check_id} is {check['verdict']}, expected {verdict}: "
           f"{check['summary']}")
    if verdict == "fail":
        expect(proc.returncode == 1 and report["verdict"] == "fail", describe(proc))
    return check


def named_needles(check):
    return {(f["needle"]["disc"], f["needle"]["index"]) for f in check["findings"] if f["needle"]}


def test_bent_needles_from_the_threshold_up_fail_penetration_depth_naming_each(env):
    check = judged(env, "bent")
    expect(named_needles(check) == set(NEEDLES), f"named {named_needles(check)}, bent {NEEDLES}")


def test_a_needle_bent_to_0_6x_the_threshold_passes_penetration_depth(env):
    judged(env, "bent-below")


def test_blunt_needles_from_the_threshold_up_fail_penetration_depth_naming_each(env):
    check = judged(env, "blunt")
    expect(named_needles(check) == set(NEEDLES), f"named {named_needles(check)}, blunt {NEEDLES}")


def test_a_needle_blunt_to_0_6x_the_threshold_passes_penetration_depth(env):
    judged(env, "blunt-below")


def test_a_missing_needle_fails_missing_channels_naming_it(env):
    check = judged(env, "missing")
    expect(named_needles(check) == {NEEDLES[0]}, check["findings"])


def drum_case(env, kind, prop):
    for scale in SCALES:
        check = judged(env, f"{kind}-{scale:g}x")
        texts = [f["text"] for f in check["findings"]]
        expect(any(t.startswith(prop + ":") for t in texts), f"{kind} {scale}x: findings {texts}")
        expect(not named_needles(check), f"{kind} {scale}x blames a needle: {check['findings']}")
    judged(env, f"{kind}-{BELOW:g}x")


def test_an_eccentric_drum_from_the_threshold_up_fails_depth_uniformity_on_runout(env):
    drum_case(env, "eccentric", "runout")


def test_a_tilted_axle_from_the_threshold_up_fails_depth_uniformity_on_tilt(env):
    drum_case(env, "tilt", "tilt")


def test_a_slipping_drum_from_the_threshold_up_fails_roll_slip(env):
    drum_case(env, "slip", "slip")


if __name__ == "__main__":
    main(globals())
