#!/usr/bin/python3
"""Synthetic optical-profilometer scans of a rolled skin phantom, with their truth.

Plays "a real confocal / focus-variation profilometer and the people who test against
it": the physics of the channels and of the instrument is written here from first
principles, independently of the bench's own analysis (bench/analysis) and of the virtual
rig (fixtures/rigsim), so that agreement with this truth means something (DESIGN section 4,
"Measurement independence"). docs/scan-accuracy.md explains the model.

A scan is the height map of a window of the phantom (default 12 x 12 mm at 10 um) after a
DR-192 roller rolled over it:

  lattice     needles 2.618 mm apart along X (pi * 20 mm / 24), discs 2.5 mm apart across,
              odd discs staggered by half a needle spacing (15.28 channels per cm2), a random
              lattice offset in the window and a few um of jitter per channel;
  channels    gaussian (an elastic dimple, h = -D exp(-r^2 / 2 s^2)), cone (the imprint of a
              conical needle with a rounded tip and a 125 um shank), flat (the imprint of a
              flat-ended cylinder), teardrop (a funnel elongated along X by the entry/exit
              angle, its floor nearer one end); depth D per channel (340 +- 8 um, a few far
              off in "defect" scans) and a raised rim of 0-8 um around the opening;
  form        tilt, curvature (cylinder along X or Y, or sphere) and waviness (2-3 sinusoids
              of 2-5 mm wavelength): the local reference surface;
  instrument  white noise (more on steep flanks), quantisation, points left unread (NaN)
              where the local slope passes the acceptance angle, isolated dropouts, spikes,
              dust, and (harsh) channels whose floor is entirely unread.

Depth in the truth: the height of the reference surface (the form: tilt + curvature +
waviness, without the rim) at the channel's centre minus the height of the channel's
deepest point as built (before noise and quantisation).

Output: SCAN.x3p (ISO 25178-72: main.xml + bindata/data.bin float32 LE in metres, NaN =
unread, MD5 of the data; the same main.xml as fixtures/scans/make_scans.py), SCAN.csv on
request (rows along X, cells along Y, um, NaN for unread), SCAN.truth.json.

    /usr/bin/python3 tests/scangen/scangen.py --shape cone --grade typical --seed 7 --out DIR
    /usr/bin/python3 tests/scangen/scangen.py --shape flat --grade harsh --seed 1 --defects 2 \
        --format both --out DIR

Needs numpy (Debian's python3-numpy). Deterministic: the same arguments make the same files.
"""
import argparse
import dataclasses
import hashlib
import json
import math
import os
import sys
import time
import zipfile

import numpy as np

SHAPES = ("gaussian", "cone", "flat", "teardrop")
GRADES = ("clean", "typical", "harsh")

# DR-192: 24 needles around a 20 mm drum, 8 discs on a 20 mm width.
NEEDLE_SPACING_UM = math.pi * 20000.0 / 24.0
DISC_SPACING_UM = 20000.0 / 8.0
NOMINAL_DENSITY_PER_CM2 = 1e8 / (NEEDLE_SPACING_UM * DISC_SPACING_UM)
SHANK_RADIUS_UM = 125.0      # 0.25 mm needle
FLOOR_BAND_UM = 20.0         # the floor region: within this of the deepest point's depth
FOOTPRINT_UM = 1.0           # a pixel belongs to a channel where it lies this far below the surface
FLOOR_READABLE_SHARE = 0.5   # a floor is readable when at least this share of it was read
JITTER_UM = 3.0              # needle position spread on the drum and in the phantom

# Per grade: form of the phantom and character of the instrument. Every key can be
# overridden (generate(..., overrides={...}) or the command line).
GRADE_PRESETS = {
    "clean": dict(
        tilt_deg=(0.0, 0.0), radius_mm=None, waviness_um=0.0,
        noise_um=0.2, quantum_um=0.01,
        acceptance_deg=None, steep_dropout=0.0, steep_noise_factor=1.0,
        isolated_dropout=0.0, spikes_per_mpx=0.0, dust=0, unreadable_floors=0),
    "typical": dict(
        tilt_deg=(0.0, 1.0), radius_mm=(200.0, 1000.0), waviness_um=3.0,
        noise_um=0.5, quantum_um=0.05,
        acceptance_deg=70.0, steep_dropout=0.5, steep_noise_factor=2.0,
        isolated_dropout=1e-4, spikes_per_mpx=2.0, dust=1, unreadable_floors=0),
    "harsh": dict(
        tilt_deg=(2.0, 2.0), radius_mm=(25.0, 25.0), waviness_um=10.0,
        noise_um=1.0, quantum_um=0.1,
        acceptance_deg=60.0, steep_dropout=0.35, steep_noise_factor=4.0,
        isolated_dropout=1e-3, spikes_per_mpx=10.0, dust=4, unreadable_floors=2),
}
COMMON_DEFAULTS = dict(
    depth_um=340.0, depth_sd_um=8.0, rim_max_um=8.0, acceptance_width_deg=3.0,
    shallow_um=(180.0, 235.0), deep_um=(415.0, 460.0))


# ----------------------------------------------------------------------------- form

@dataclasses.dataclass
class Form:
    """The phantom's reference surface: tilt + curvature + waviness, um, at (x, y) in um."""
    tilt_deg: float
    tilt_azimuth_rad: float
    curvature_kind: str          # none, cylinder_x (sag along X), cylinder_y, sphere
    radius_um: float
    curvature_sign: float        # +1 convex (falls away from the apex), -1 concave
    apex_um: tuple
    waves: list                  # (amplitude_um, wavelength_um, direction_rad, phase_rad)
    centre_um: tuple

    def height(self, x, y):
        cx, cy = self.centre_um
        t = math.tan(math.radians(self.tilt_deg))
        h = t * ((x - cx) * math.cos(self.tilt_azimuth_rad) + (y - cy) * math.sin(self.tilt_azimuth_rad))
        if self.curvature_kind != "none":
            ax, ay = self.apex_um
            r = self.radius_um
            if self.curvature_kind == "cylinder_x":
                d2 = (x - ax) ** 2 + 0.0 * y
            elif self.curvature_kind == "cylinder_y":
                d2 = 0.0 * x + (y - ay) ** 2
            else:
                d2 = (x - ax) ** 2 + (y - ay) ** 2
            h = h + self.curvature_sign * (np.sqrt(r * r - d2) - r)
        for amplitude, wavelength, direction, phase in self.waves:
            h = h + amplitude * np.sin(2 * math.pi * ((x - cx) * math.cos(direction) +
                                                      (y - cy) * math.sin(direction)) / wavelength + phase)
        return h

    def describe(self):
        return {
            "tilt_deg": self.tilt_deg,
            "tilt_azimuth_deg": math.degrees(self.tilt_azimuth_rad),
            "curvature": None if self.curvature_kind == "none" else {
                "kind": self.curvature_kind, "radius_mm": self.radius_um / 1000.0,
                "convex": self.curvature_sign > 0,
                "apex_um": [self.apex_um[0], self.apex_um[1]]},
            "waviness": [{"amplitude_um": a, "wavelength_um": w, "direction_deg": math.degrees(d),
                          "phase_rad": p} for a, w, d, p in self.waves],
            "waviness_peak_um": sum(a for a, _, _, _ in self.waves),
        }


def random_form(rng, cfg, length_um, width_um):
    centre = (length_um / 2.0, width_um / 2.0)
    lo, hi = cfg["tilt_deg"]
    tilt = float(rng.uniform(lo, hi)) if hi > lo else float(lo)
    azimuth = float(rng.uniform(0, 2 * math.pi))
    kind, radius, sign, apex = "none", 0.0, 1.0, centre
    if cfg["radius_mm"]:
        lo, hi = cfg["radius_mm"]
        radius = 1000.0 * (float(rng.uniform(lo, hi)) if hi > lo else float(lo))
        kind = ("cylinder_x", "cylinder_y", "sphere")[int(rng.integers(3))]
        sign = 1.0 if rng.random() < 0.5 else -1.0
        # The apex lies near the middle of the window: a phantom bent over a roller or a
        # curved bed, centred under the instrument by the operator.
        apex = (centre[0] + float(rng.uniform(-0.1, 0.1)) * length_um,
                centre[1] + float(rng.uniform(-0.1, 0.1)) * width_um)
    waves = []
    if cfg["waviness_um"] > 0:
        n = int(rng.integers(2, 4))
        weights = rng.uniform(0.5, 1.0, n)
        weights = weights / weights.sum() * cfg["waviness_um"]   # peak of the sum = waviness_um
        for a in weights:
            waves.append((float(a), float(rng.uniform(2000.0, 5000.0)),
                          float(rng.uniform(0, math.pi)), float(rng.uniform(0, 2 * math.pi))))
    return Form(tilt, azimuth, kind, radius, sign, apex, waves, centre)


# ----------------------------------------------------------------------------- channels

@dataclasses.dataclass
class Channel:
    x_um: float
    y_um: float
    depth_um: float              # the tool's reach below the reference at the centre
    rim_um: float
    defect: str = None           # None, "shallow" or "deep"
    z_tip_um: float = 0.0        # absolute height of the tool's tip (imprint shapes)
    ref_um: float = 0.0          # reference surface at the centre


def shape_params(shape, rng):
    """Parameters shared by every channel of a scan (one roller, one phantom)."""
    p = {"shape": shape, "rim_width_um": float(rng.uniform(20.0, 40.0))}
    if shape == "gaussian":
        p["sigma_um"] = float(rng.uniform(45.0, 70.0))
    elif shape in ("cone", "teardrop"):
        p["tip_angle_deg"] = float(rng.uniform(25.0, 40.0))     # full angle
        p["tip_radius_um"] = float(rng.uniform(10.0, 30.0))
        p["shank_radius_um"] = SHANK_RADIUS_UM if shape == "cone" else None
        if shape == "teardrop":
            k = float(rng.uniform(1.5, 2.5))                   # opening length / width
            f = float(rng.uniform(0.6, 0.75))                  # share of the length ahead of the floor
            p["elongation"] = k
            p["ahead_share"] = f
            p["stretch_ahead"] = 2 * k * f
            p["stretch_behind"] = 2 * k * (1 - f)
            p["direction"] = 1.0 if rng.random() < 0.5 else -1.0   # rolling direction
    elif shape == "flat":
        p["radius_um"] = float(rng.uniform(80.0, 125.0))
        p["wall_angle_deg"] = float(rng.uniform(80.0, 87.0))
        p["edge_radius_um"] = float(rng.uniform(5.0, 15.0))
    else:
        raise ValueError(f"unknown shape {shape!r}: one of {', '.join(SHAPES)}")
    return p


def tool_profile(p, r):
    """Height of an imprinting tool above its tip at distance r (um); inf where it is not."""
    if p["shape"] == "flat":
        rf, e = p["radius_um"], p["edge_radius_um"]
        inner = rf - e
        t = np.clip(r - inner, 0.0, e)
        rounded = e - np.sqrt(np.maximum(e * e - t * t, 0.0))
        wall = e + np.maximum(r - rf, 0.0) * math.tan(math.radians(p["wall_angle_deg"]))
        return np.where(r <= inner, 0.0, np.where(r <= rf, rounded, wall))
    # cone with a spherical tip tangent to it
    alpha = math.radians(p["tip_angle_deg"] / 2.0)
    rho = p["tip_radius_um"]
    rt = rho * math.cos(alpha)
    sphere = rho - np.sqrt(np.maximum(rho * rho - r * r, 0.0))
    cone = (r - rt) / math.tan(alpha) + rho * (1.0 - math.sin(alpha))
    z = np.where(r <= rt, sphere, cone)
    if p.get("shank_radius_um"):
        z = np.where(r < p["shank_radius_um"], z, np.inf)
    return z


def opening_radius(p, depth_um):
    """Radius (um; teardrop: across X) where the channel meets the reference surface."""
    if p["shape"] == "gaussian":
        return p["sigma_um"] * math.sqrt(2.0 * math.log(max(depth_um, 1.0 + 1e-9) / FOOTPRINT_UM))
    if p["shape"] == "flat":
        wall = max(depth_um - p["edge_radius_um"], 0.0) / math.tan(math.radians(p["wall_angle_deg"]))
        return p["radius_um"] + wall
    alpha = math.radians(p["tip_angle_deg"] / 2.0)
    rho = p["tip_radius_um"]
    r = rho * math.cos(alpha) + (depth_um - rho * (1.0 - math.sin(alpha))) * math.tan(alpha)
    if p.get("shank_radius_um"):
        r = min(r, p["shank_radius_um"])
    return r


def opening_extent(p, depth_um):
    """(ahead, behind, across) half extents of the opening, um; ahead is +X."""
    r = opening_radius(p, depth_um)
    if p["shape"] != "teardrop":
        return r, r, r
    ahead, behind = r * p["stretch_ahead"], r * p["stretch_behind"]
    return (ahead, behind, r) if p["direction"] > 0 else (behind, ahead, r)


def effective_radius(p, dx, dy):
    if p["shape"] != "teardrop":
        return np.sqrt(dx * dx + dy * dy)
    u = dx * p["direction"]
    stretch = np.where(u > 0, p["stretch_ahead"], p["stretch_behind"])
    return np.sqrt((u / stretch) ** 2 + dy * dy)


def rim_height(p, ch, r, r_open):
    """Raised lip: a plateau inside the opening (hidden by the channel) that falls off
    outside it over rim_width_um, and well inside it over 15 um (so no rim on a floor)."""
    w = p["rim_width_um"]
    inside = np.exp(-((r - r_open) / 15.0) ** 2)
    outside = np.exp(-((r - r_open) / w) ** 2)
    return ch.rim_um * np.where(r >= r_open, outside, inside)


def channel_surface(p, ch, dx, dy, surface):
    """The surface (um) after this channel was made in `surface` (the reference there, or
    whatever is already built): dimple for gaussian, imprint of a rigid tool otherwise."""
    r = effective_radius(p, dx, dy)
    r_open = opening_radius(p, ch.depth_um)
    s = surface + rim_height(p, ch, r, r_open)
    if p["shape"] == "gaussian":
        sig = p["sigma_um"]
        return s - ch.depth_um * np.exp(-(dx * dx + dy * dy) / (2 * sig * sig))
    return np.minimum(s, ch.z_tip_um + tool_profile(p, r))


def window_half_size(p, ch):
    ahead, behind, across = opening_extent(p, ch.depth_um)
    reach = max(ahead, behind, across) + 4 * p["rim_width_um"] + 20.0
    if p["shape"] == "gaussian":
        reach = max(reach, 5 * p["sigma_um"])
    return reach


def lattice(rng, length_um, width_um, reach_um):
    """Channel centres of a DR-192 roll around (and in) the window, jittered."""
    ox = float(rng.uniform(0, NEEDLE_SPACING_UM))
    oy = float(rng.uniform(0, DISC_SPACING_UM))
    odd_first = rng.random() < 0.5
    points = []
    j_lo = math.floor((-reach_um - oy) / DISC_SPACING_UM)
    j_hi = math.ceil((width_um + reach_um - oy) / DISC_SPACING_UM)
    for j in range(j_lo, j_hi + 1):
        y = oy + j * DISC_SPACING_UM
        stagger = 0.5 * NEEDLE_SPACING_UM if (j % 2 == 1) != odd_first else 0.0
        i_lo = math.floor((-reach_um - ox - stagger) / NEEDLE_SPACING_UM)
        i_hi = math.ceil((length_um + reach_um - ox - stagger) / NEEDLE_SPACING_UM)
        for i in range(i_lo, i_hi + 1):
            x = ox + stagger + i * NEEDLE_SPACING_UM
            if -reach_um <= x <= length_um + reach_um and -reach_um <= y <= width_um + reach_um:
                points.append((x, y))
    jitter = rng.normal(0.0, JITTER_UM, (len(points), 2))
    return [(x + float(a), y + float(b)) for (x, y), (a, b) in zip(points, jitter)], (ox, oy)


# ----------------------------------------------------------------------------- generation

def smoothstep(t):
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def config_for(grade, overrides=None):
    if grade not in GRADE_PRESETS:
        raise ValueError(f"unknown grade {grade!r}: one of {', '.join(GRADES)}")
    cfg = dict(COMMON_DEFAULTS)
    cfg.update(GRADE_PRESETS[grade])
    for key, value in (overrides or {}).items():
        if key not in cfg:
            raise ValueError(f"unknown setting {key!r}")
        cfg[key] = value
    return cfg


def generate(shape, grade, seed, defects=0, pitch_um=10.0, size_mm=(12.0, 12.0), overrides=None,
             keep_layers=False):
    """Makes one scan. Returns (heights, truth): heights[ix, iy] in um (ix along X, the
    roll direction; NaN = unread), truth a JSON-ready dict. keep_layers=True adds
    truth["_layers"] (numpy arrays: reference, built, slope_deg, spikes) for self-tests."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}: one of {', '.join(SHAPES)}")
    cfg = config_for(grade, overrides)
    rng = np.random.default_rng(np.random.SeedSequence(
        [int(seed), SHAPES.index(shape), GRADES.index(grade), int(defects), int(round(pitch_um * 1000))]))
    nx = int(round(size_mm[0] * 1000.0 / pitch_um))
    ny = int(round(size_mm[1] * 1000.0 / pitch_um))
    length_um, width_um = nx * pitch_um, ny * pitch_um
    xs = np.arange(nx) * pitch_um
    ys = np.arange(ny) * pitch_um

    form = random_form(rng, cfg, length_um, width_um)
    p = shape_params(shape, rng)
    rim_max = float(rng.uniform(0.0, cfg["rim_max_um"]))

    centres, offset = lattice(rng, length_um, width_um, reach_um=600.0)
    channels = []
    for x, y in centres:
        depth = float(rng.normal(cfg["depth_um"], cfg["depth_sd_um"]))
        channels.append(Channel(x, y, depth, float(rng.uniform(0.0, rim_max))))
    x_last, y_last = xs[-1], ys[-1]

    def in_window(ch, margin=0.0):
        return margin <= ch.x_um <= x_last - margin and margin <= ch.y_um <= y_last - margin

    # Defects: channels well inside the window made clearly too shallow or too deep.
    inner = [i for i, ch in enumerate(channels) if in_window(ch, 600.0)]
    chosen = list(rng.choice(inner, size=min(defects, len(inner)), replace=False)) if defects else []
    for i in chosen:
        kind = "shallow" if rng.random() < 0.5 else "deep"
        lo, hi = cfg["shallow_um"] if kind == "shallow" else cfg["deep_um"]
        channels[i].depth_um = float(rng.uniform(lo, hi))
        channels[i].defect = kind

    # Built surface: reference, then every channel in its own window, then dust.
    reference = form.height(xs[:, None], ys[None, :])
    built = reference.copy()
    windows = []
    for ch in channels:
        ch.ref_um = float(form.height(np.array(ch.x_um), np.array(ch.y_um)))
        ch.z_tip_um = ch.ref_um - ch.depth_um
        reach = window_half_size(p, ch)
        i0 = max(0, int(math.floor((ch.x_um - reach) / pitch_um)))
        i1 = min(nx, int(math.ceil((ch.x_um + reach) / pitch_um)) + 1)
        j0 = max(0, int(math.floor((ch.y_um - reach) / pitch_um)))
        j1 = min(ny, int(math.ceil((ch.y_um + reach) / pitch_um)) + 1)
        if i0 >= i1 or j0 >= j1:
            windows.append(None)
            continue
        sl = (slice(i0, i1), slice(j0, j1))
        dx = xs[i0:i1, None] - ch.x_um
        dy = ys[None, j0:j1] - ch.y_um
        made = channel_surface(p, ch, dx, dy, built[sl])
        built[sl] = made
        windows.append((sl, dx, dy, made))

    # Unreadable floors (harsh): deep narrow channels whose floor sends no light back.
    candidates = [i for i, ch in enumerate(channels)
                  if ch.defect is None and in_window(ch, 600.0) and windows[i] is not None]
    dark = set(int(i) for i in rng.choice(candidates, size=min(cfg["unreadable_floors"], len(candidates)),
                                          replace=False)) if cfg["unreadable_floors"] else set()

    # Dust: particles lying on the phantom (typical: away from the channels).
    dust = []
    for _ in range(int(cfg["dust"])):
        for _attempt in range(100):
            dx0, dy0 = float(rng.uniform(0, x_last)), float(rng.uniform(0, y_last))
            diameter, height = float(rng.uniform(20.0, 60.0)), float(rng.uniform(5.0, 30.0))
            clear = all(math.hypot(dx0 - ch.x_um, dy0 - ch.y_um) >
                        max(opening_extent(p, ch.depth_um)) + diameter + 60.0 for ch in channels)
            if clear or grade == "harsh":
                break
        rad = diameter / 2.0
        i0, i1 = max(0, int((dx0 - rad) / pitch_um)), min(nx, int((dx0 + rad) / pitch_um) + 2)
        j0, j1 = max(0, int((dy0 - rad) / pitch_um)), min(ny, int((dy0 + rad) / pitch_um) + 2)
        r2 = (xs[i0:i1, None] - dx0) ** 2 + (ys[None, j0:j1] - dy0) ** 2
        cap = height * np.sqrt(np.maximum(1.0 - r2 / (rad * rad), 0.0))
        built[i0:i1, j0:j1] += cap
        dust.append({"x_um": dx0, "y_um": dy0, "diameter_um": diameter, "height_um": height,
                     "in_channel": not clear})

    # The instrument.
    gx, gy = np.gradient(built, pitch_um)
    slope_deg = np.degrees(np.arctan(np.hypot(gx, gy)))
    del gx, gy
    if cfg["acceptance_deg"] is not None:
        w = cfg["acceptance_width_deg"]
        steep = smoothstep((slope_deg - (cfg["acceptance_deg"] - w)) / (2 * w))
    else:
        steep = np.zeros_like(slope_deg)
    noise_sd = cfg["noise_um"] * (1.0 + (cfg["steep_noise_factor"] - 1.0) * steep)
    measured = built + noise_sd * rng.standard_normal(built.shape)
    if cfg["quantum_um"] > 0:
        measured = np.round(measured / cfg["quantum_um"]) * cfg["quantum_um"]
    unread = rng.random(built.shape) < cfg["steep_dropout"] * steep
    if cfg["isolated_dropout"] > 0:
        unread |= rng.random(built.shape) < cfg["isolated_dropout"]
    n_spikes = int(rng.poisson(cfg["spikes_per_mpx"] * nx * ny / 1e6)) if cfg["spikes_per_mpx"] else 0
    spike_mask = np.zeros(built.shape, dtype=bool)
    spikes = []
    for _ in range(n_spikes):
        i, j = int(rng.integers(nx)), int(rng.integers(ny))
        value = float(rng.uniform(20.0, 200.0)) * (1.0 if rng.random() < 0.5 else -1.0)
        spike_mask[i, j] = True
        spikes.append({"x_um": i * pitch_um, "y_um": j * pitch_um, "height_um": value})
        measured[i, j] = built[i, j] + value
    unread &= ~spike_mask

    # Per-channel truth from the noiseless channel and the instrument's reading of it.
    truth_channels = []
    for index, (ch, win) in enumerate(zip(channels, windows)):
        entry = channel_truth(p, ch, form, pitch_um)
        entry["id"] = index
        entry["in_window"] = bool(in_window(ch))
        entry["defect"] = ch.defect
        if win is None:
            entry.update(floor_pixels=0, floor_readable_fraction=None, floor_readable=False,
                         sampled_depth_um=None, deepest_readable_depth_um=None)
            truth_channels.append(entry)
            continue
        sl, dx, dy, made = win
        surface_here = reference[sl] + rim_height(p, ch, effective_radius(p, dx, dy),
                                                  opening_radius(p, ch.depth_um))
        below = ch.ref_um - made                      # depth of the noiseless channel per pixel
        footprint = made < surface_here - FOOTPRINT_UM
        floor = footprint & (below >= entry["depth_um"] - FLOOR_BAND_UM)
        if not floor.any():
            # coarse pitch: the pixel nearest the deepest point is the floor
            k = np.unravel_index(np.argmax(np.where(footprint, below, -np.inf)), below.shape)
            floor = np.zeros_like(footprint)
            floor[k] = True
        if index in dark:
            grown = floor.copy()
            grown[1:, :] |= floor[:-1, :]
            grown[:-1, :] |= floor[1:, :]
            grown[:, 1:] |= floor[:, :-1]
            grown[:, :-1] |= floor[:, 1:]
            unread[sl] |= grown & ~spike_mask[sl]
        readable = ~unread[sl] & ~spike_mask[sl]
        share = float(readable[floor].mean()) if floor.any() else 0.0
        entry["floor_pixels"] = int(floor.sum())
        entry["floor_readable_fraction"] = share
        entry["floor_readable"] = share >= FLOOR_READABLE_SHARE
        entry["floor_made_unreadable"] = index in dark
        entry["sampled_depth_um"] = float(below[footprint].max()) if footprint.any() else None
        seen = footprint & readable
        entry["deepest_readable_depth_um"] = float((ch.ref_um - measured[sl][seen]).max()) if seen.any() else None
        entry["dust_in_channel"] = any(
            abs(d["x_um"] - ch.x_um) < entry["opening_half_length_um"] + d["diameter_um"] and
            abs(d["y_um"] - ch.y_um) < entry["opening_half_width_um"] + d["diameter_um"] for d in dust)
        truth_channels.append(entry)

    measured[unread] = np.nan

    count = sum(1 for c in truth_channels if c["in_window"])
    area_cm2 = length_um * width_um / 1e8
    radius = max(max(c["opening_half_length_um"], c["opening_half_width_um"]) for c in truth_channels)
    truth = {
        "generator": "tests/scangen/scangen.py",
        "version": 1,
        "shape": shape,
        "grade": grade,
        "seed": int(seed),
        "defects": len(chosen),
        "window": {"x0_um": 0.0, "y0_um": 0.0, "x1_um": float(x_last), "y1_um": float(y_last),
                   "length_um": length_um, "width_um": width_um, "nx": nx, "ny": ny},
        "pitch_um": pitch_um,
        "noise_sd_um": cfg["noise_um"],
        "quantum_um": cfg["quantum_um"],
        "instrument": {k: cfg[k] for k in ("acceptance_deg", "acceptance_width_deg", "steep_dropout",
                                           "steep_noise_factor", "isolated_dropout", "spikes_per_mpx")},
        "nominal_density_per_cm2": NOMINAL_DENSITY_PER_CM2,
        "channels_in_window": count,
        "window_density_per_cm2": count / area_cm2,
        "channel_radius_um": radius,
        "lattice": {"needle_spacing_um": NEEDLE_SPACING_UM, "disc_spacing_um": DISC_SPACING_UM,
                    "offset_um": [offset[0], offset[1]], "jitter_um": JITTER_UM},
        "form": form.describe(),
        "shape_params": p,
        "rim_max_um": rim_max,
        "unread_share": float(np.isnan(measured).mean()),
        "spikes": spikes,
        "dust": dust,
        "channels": truth_channels,
    }
    if keep_layers:
        truth["_layers"] = {"reference": reference, "built": built, "slope_deg": slope_deg,
                            "spikes": spike_mask, "steep": steep}
    return measured, truth


def channel_truth(p, ch, form, pitch_um):
    """Depth as built: reference at the centre minus the lowest point of the noiseless
    channel, searched on a fine grid (0.5 um) around the floor, the centre included."""
    if p["shape"] == "flat":
        reach, step = p["radius_um"] + 2.0, 1.0
    else:
        reach, step = 30.0, 0.5
    g = np.arange(-reach, reach + step / 2, step)
    dx, dy = g[:, None], g[None, :]
    surface = form.height(ch.x_um + dx, ch.y_um + dy)
    made = channel_surface(p, ch, dx, dy, surface)
    k = np.unravel_index(np.argmin(made), made.shape)
    lowest = float(min(made[k], channel_surface(p, ch, np.array(0.0), np.array(0.0),
                                                 np.array(ch.ref_um))))
    ahead, behind, across = opening_extent(p, ch.depth_um)
    centre_x = ch.x_um + (ahead - behind) / 2.0
    return {
        "x_um": ch.x_um, "y_um": ch.y_um, "shape": p["shape"],
        "depth_um": ch.ref_um - lowest,
        "tool_depth_um": ch.depth_um,
        "deepest_x_um": ch.x_um + float(dx[k[0], 0]), "deepest_y_um": ch.y_um + float(dy[0, k[1]]),
        "opening_centre_x_um": centre_x, "opening_centre_y_um": ch.y_um,
        "opening_half_length_um": (ahead + behind) / 2.0, "opening_half_width_um": across,
        "rim_um": ch.rim_um, "reference_um": ch.ref_um,
    }


# ----------------------------------------------------------------------------- files

def main_xml(pitch_um, data_md5, comment):
    increment = f"{pitch_um * 1e-6:.6E}"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<p:ISO5436_2 xmlns:p="http://www.opengps.eu/2008/ISO5436_2">
  <Record1>
    <Revision>ISO5436 - 2000</Revision>
    <FeatureType>SUR</FeatureType>
    <Axes>
      <CX><AxisType>I</AxisType><DataType>D</DataType><Increment>{increment}</Increment><Offset>0</Offset></CX>
      <CY><AxisType>I</AxisType><DataType>D</DataType><Increment>{increment}</Increment><Offset>0</Offset></CY>
      <CZ><AxisType>A</AxisType><DataType>F</DataType><Offset>0</Offset></CZ>
    </Axes>
  </Record1>
  <Record2>
    <Date>2024-01-01T00:00:00+00:00</Date>
    <Creator>tests/scangen/scangen.py</Creator>
    <Instrument><Manufacturer>scangen</Manufacturer><Model>synthetic confocal profilometer</Model><Serial>0</Serial><Version>1</Version></Instrument>
    <CalibrationDate>2024-01-01T00:00:00+00:00</CalibrationDate>
    <ProbingSystem><Type>NonContacting</Type><Identification>synthetic</Identification></ProbingSystem>
    <Comment>{comment}</Comment>
  </Record2>
  <Record3>
    <MatrixDimension><SizeX>{{nx}}</SizeX><SizeY>{{ny}}</SizeY><SizeZ>1</SizeZ></MatrixDimension>
    <DataLink>
      <PointDataLink>bindata/data.bin</PointDataLink>
      <MD5ChecksumPointData>{data_md5}</MD5ChecksumPointData>
    </DataLink>
  </Record3>
  <Record4><ChecksumFile>md5checksum.hex</ChecksumFile></Record4>
</p:ISO5436_2>
"""


def write_x3p(path, heights_um, pitch_um, comment="scangen"):
    """float32 heights in metres, X fastest (file point (x, y) = heights_um[x, y])."""
    nx, ny = heights_um.shape
    data = np.ascontiguousarray((heights_um * 1e-6).T).astype("<f4").tobytes()
    xml = main_xml(pitch_um, hashlib.md5(data).hexdigest(), comment)
    xml = xml.replace("{nx}", str(nx)).replace("{ny}", str(ny)).encode()
    entries = [("main.xml", xml, 9), ("bindata/data.bin", data, 1),
               ("md5checksum.hex", (hashlib.md5(xml).hexdigest() + " *main.xml\n").encode(), 9)]
    with zipfile.ZipFile(path, "w") as archive:
        for name, content, level in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content, compresslevel=level)


def write_csv(path, heights_um, comment="scangen"):
    """ASCII grid: one line per X (roll direction), cells along Y, um, NaN for unread."""
    nx, ny = heights_um.shape
    with open(path, "w") as f:
        f.write(f"# {comment}\n# {nx} rows along X x {ny} columns along Y, heights in um, NaN = not read\n")
        for row in heights_um:
            f.write(",".join("NaN" if v != v else f"{v:.3f}" for v in row.tolist()))
            f.write("\n")


def write_truth(path, truth):
    public = {k: v for k, v in truth.items() if not k.startswith("_")}
    with open(path, "w") as f:
        json.dump(public, f, indent=1)
        f.write("\n")


def scan_name(shape, grade, seed, defects=0):
    return f"{shape}-{grade}-s{seed}" + (f"-d{defects}" if defects else "")


def make_scan(out_dir, shape, grade, seed, defects=0, pitch_um=10.0, size_mm=(12.0, 12.0),
              fmt="x3p", name=None, overrides=None):
    """Generates and writes one scan; returns {"x3p"/"csv": path, "truth": path}."""
    heights, truth = generate(shape, grade, seed, defects, pitch_um, size_mm, overrides)
    name = name or scan_name(shape, grade, seed, defects)
    comment = f"DR-192 lattice, {shape} channels, {grade} grade, seed {seed}, {truth['defects']} defects"
    paths = {}
    os.makedirs(out_dir, exist_ok=True)
    if fmt in ("x3p", "both"):
        paths["x3p"] = os.path.join(out_dir, name + ".x3p")
        write_x3p(paths["x3p"], heights, pitch_um, comment)
    if fmt in ("csv", "both"):
        paths["csv"] = os.path.join(out_dir, name + ".csv")
        write_csv(paths["csv"], heights, comment)
    paths["truth"] = os.path.join(out_dir, name + ".truth.json")
    write_truth(paths["truth"], truth)
    return paths


OVERRIDE_OPTIONS = {
    # option: (config key, type)
    "--noise-um": ("noise_um", float), "--quantum-um": ("quantum_um", float),
    "--acceptance-deg": ("acceptance_deg", float), "--steep-dropout": ("steep_dropout", float),
    "--isolated-dropout": ("isolated_dropout", float), "--spikes-per-mpx": ("spikes_per_mpx", float),
    "--dust": ("dust", int), "--unreadable-floors": ("unreadable_floors", int),
    "--waviness-um": ("waviness_um", float), "--depth-um": ("depth_um", float),
    "--depth-sd-um": ("depth_sd_um", float), "--rim-max-um": ("rim_max_um", float),
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", required=True, choices=SHAPES)
    ap.add_argument("--grade", required=True, choices=GRADES)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--defects", type=int, default=0, help="channels made too shallow or too deep")
    ap.add_argument("--pitch-um", type=float, default=10.0)
    ap.add_argument("--size-mm", type=float, nargs=2, default=(12.0, 12.0), metavar=("X", "Y"))
    ap.add_argument("--format", choices=("x3p", "csv", "both"), default="x3p")
    ap.add_argument("--out", required=True, help="directory for SCAN.x3p / SCAN.csv / SCAN.truth.json")
    ap.add_argument("--name", help="file stem (default SHAPE-GRADE-sSEED[-dN])")
    ap.add_argument("--tilt-deg", type=float, help="exact tilt instead of the grade's range")
    ap.add_argument("--radius-mm", type=float, help="exact curvature radius (0: none)")
    for option, (_key, kind) in OVERRIDE_OPTIONS.items():
        ap.add_argument(option, type=kind)
    args = ap.parse_args(argv)
    if args.pitch_um <= 0 or min(args.size_mm) <= 0:
        ap.error("--pitch-um and --size-mm must be positive")
    overrides = {}
    for option, (key, _kind) in OVERRIDE_OPTIONS.items():
        value = getattr(args, option[2:].replace("-", "_"))
        if value is not None:
            overrides[key] = value
    if args.tilt_deg is not None:
        overrides["tilt_deg"] = (args.tilt_deg, args.tilt_deg)
    if args.radius_mm is not None:
        overrides["radius_mm"] = (args.radius_mm, args.radius_mm) if args.radius_mm > 0 else None
    started = time.monotonic()
    paths = make_scan(args.out, args.shape, args.grade, args.seed, args.defects, args.pitch_um,
                      tuple(args.size_mm), args.format, args.name, overrides)
    for kind in ("x3p", "csv", "truth"):
        if kind in paths:
            print(paths[kind])
    print(f"scangen: {time.monotonic() - started:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
