// The channel shapes: kinds, openings, the slot from the drum's kinematics, the rim, and the
// floor where the truth's depth says it is.
#include "fixtures/rigsim/channel_shape.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "synth_test_support.hpp"

using namespace derma::rigsim;

namespace {

const NeedleForm kNeedle{125.0, 30.0, 15.0};  // DR-192's needles: 0.25 mm, 30 deg, 15 um

ChannelShapeSettings imprint_settings() {
  ChannelShapeSettings s;
  s.imprint = true;
  s.floor_rounding_um = 20;
  return s;
}

// A needle that went 325 um into the phantom, rolling towards +X.
const NeedleStroke kStroke{10'000.0, 500.0, 325.0, +1};

// Height of the imprint at (dx, dy) over a level form.
double height_at(const ChannelShape& s, double dx, double dy) {
  return sample_imprint(s, dx, dy, 0.0, Gradient{}, 1.0).height_um;
}

}  // namespace

TEST_CASE("a channel shallower than the needle's cone is a cone, a deeper one a cone_cylinder") {
  const ChannelShape probe = imprint_channel(0, 0, 100, kNeedle, imprint_settings(), kStroke);
  // 30 deg tip on a 125-um shank, floor rounded to 20 um: the cone ends 125 / tan 15 deg
  // above its apex, which lies 20 (1 / sin 15 deg - 1) below the floor.
  const double cone_um = 125.0 / std::tan(M_PI / 12) - 20.0 * (1.0 / std::sin(M_PI / 12) - 1.0);
  CHECK(probe.cone_length_um() == Approx(cone_um));

  const ChannelShape cone = imprint_channel(0, 0, 300, kNeedle, imprint_settings(), kStroke);
  CHECK(cone.kind == ChannelKind::Cone);
  CHECK(cone.opening_radius_um < kNeedle.shank_radius_um);
  CHECK(height_at(cone, 0, cone.opening_radius_um) == Approx(0).margin(1e-9));  // the lip
  CHECK(height_at(cone, 0, 0) == Approx(-300));                                 // the floor

  const ChannelShape deep = imprint_channel(0, 0, 600, kNeedle, imprint_settings(), kStroke);
  CHECK(deep.kind == ChannelKind::ConeCylinder);
  CHECK(deep.opening_radius_um == kNeedle.shank_radius_um);
  // The shank's wall: just inside it the channel is 600 - cone length deep, just outside 0.
  CHECK(height_at(deep, 0, 124.9) == Approx(-(600 - cone_um)).margin(0.5));
  CHECK(height_at(deep, 0, 125.1) == 0);

  const ChannelShape pit = gaussian_channel(0, 0, 300, 62.5);
  CHECK(pit.kind == ChannelKind::Gaussian);
  CHECK(pit.opening_radius_um == 125);
}

TEST_CASE("the floor is rounded to the larger of the tip's radius and the phantom's rounding") {
  ChannelShapeSettings phantom = imprint_settings();
  phantom.floor_rounding_um = 5;
  CHECK(imprint_channel(0, 0, 300, kNeedle, phantom, kStroke).floor_radius_um == 15);
  phantom.floor_rounding_um = 25;
  const ChannelShape s = imprint_channel(0, 0, 300, kNeedle, phantom, kStroke);
  CHECK(s.floor_radius_um == 25);
  // A spherical cap: 5 um off the axis the floor rises 25 - sqrt(25^2 - 5^2).
  CHECK(height_at(s, 0, 5) + 300 == Approx(25 - std::sqrt(600.0)));
}

TEST_CASE("the slot's length follows the needle's path through the phantom as the drum turns") {
  // The exact kinematics, with no small-angle approximation: the drum (radius R) rolls, its
  // axis at height Rt - p over the surface (Rt = R + L), and a needle at angle psi from the
  // vertical crosses depth z at x = -R psi + (Rt - p + z) tan psi while its tip reaches
  // below z. The slot seen from above is the widest such crossing.
  const auto exact_half_length = [](const NeedleStroke& n) {
    const double R = n.drum_radius_um, L = n.needle_length_um, p = n.penetration_um;
    const double Rt = R + L;
    double widest = 0;
    for (double z = 0; z <= p; z += p / 200) {
      for (double psi = 0; psi < 1.0; psi += 1e-4) {
        if ((Rt - p + z) / std::cos(psi) > Rt) break;  // the tip is above depth z
        widest = std::max(widest, std::abs(-R * psi + (Rt - p + z) * std::tan(psi)));
      }
    }
    return widest;
  };
  for (const NeedleStroke& n :
       {NeedleStroke{10'000, 500, 325, 1}, NeedleStroke{10'000, 250, 160, 1},
        NeedleStroke{10'000, 1'500, 975, 1}, NeedleStroke{5'000, 500, 400, 1}}) {
    INFO("L " << n.needle_length_um << " p " << n.penetration_um << " R " << n.drum_radius_um);
    CHECK(kinematic_slot_half_length_um(n) == Approx(exact_half_length(n)).epsilon(0.002));
  }
  // DR-192-0.50 at 65 %: about 100 um either way before the phantom closes part of it,
  // which is the tip circle's half-chord sqrt(2 Rt p - p^2) = 2592 um less the drum's
  // advance while the needle is in, 2495 um.
  CHECK(kinematic_slot_half_length_um(kStroke) == Approx(97.6).margin(0.1));
}

TEST_CASE("the slot is stretched along X, more on the side the needle leaves by") {
  ChannelShapeSettings phantom = imprint_settings();
  phantom.slot_retention = 0.5;
  phantom.teardrop = 0.6;
  const double extra_um = 0.5 * kinematic_slot_half_length_um(kStroke);
  const ChannelShape forward = imprint_channel(0, 0, 300, kNeedle, phantom, kStroke);
  const double r = forward.opening_radius_um;
  // Rolling towards +X the needle enters on the +X side and leaves on the -X side.
  CHECK(forward.stretch_plus_x * r == Approx(r + extra_um * 0.4));
  CHECK(forward.stretch_minus_x * r == Approx(r + extra_um * 1.6));
  CHECK(forward.length_x_um() == Approx(2 * r + 2 * extra_um));
  CHECK(height_at(forward, -forward.stretch_minus_x * r, 0) == Approx(0).margin(1e-9));
  CHECK(height_at(forward, forward.stretch_plus_x * r, 0) == Approx(0).margin(1e-9));
  CHECK(height_at(forward, 0, r) == Approx(0).margin(1e-9));  // across X: the needle's width

  NeedleStroke backward = kStroke;
  backward.rolling_direction = -1;
  const ChannelShape back = imprint_channel(0, 0, 300, kNeedle, phantom, backward);
  CHECK(back.stretch_plus_x == forward.stretch_minus_x);
  CHECK(back.stretch_minus_x == forward.stretch_plus_x);
}

TEST_CASE("the rim stands its height at the opening and falls off outside") {
  ChannelShapeSettings phantom = imprint_settings();
  phantom.rim_height_um = 5;
  phantom.rim_width = 1.0;
  const ChannelShape s = imprint_channel(0, 0, 300, kNeedle, phantom, kStroke);
  const double r = s.opening_radius_um;
  // The cone's wall goes on up to the rim's crest, H tan(15 deg) beyond the opening.
  CHECK(height_at(s, 0, r + 0.01) == Approx(0.01 / std::tan(M_PI / 12)));
  CHECK(height_at(s, 0, r + 5 * std::tan(M_PI / 12) + 0.01) == Approx(5).margin(0.01));
  CHECK(height_at(s, 0, r + r) == Approx(5 * std::exp(-1.0)));  // one width out
  CHECK(height_at(s, 0, s.reach_rho_um()) < 0.002 * 5);         // where the bounding box ends
  CHECK(height_at(s, 0, r - 1) < 0);                            // inside: the wall
  CHECK(height_at(s, 0, 0) == Approx(-300));                    // the rim does not lift the floor
}

TEST_CASE("every kind's floor lies at the form's height at its centre minus the truth's depth") {
  // A curved, wavy, tilted form, and channels centred on pixels of a 5-um scan.
  PhantomForm form = test::level_form();
  form.plane.slope_x_um_per_mm = 8;
  form.plane.slope_y_um_per_mm = -5;
  form.curvature = Curvature::Cylinder;
  form.curvature_radius_um = 60'000;
  form.crown_y_um = 10'000;
  form.waves = {Wave{3, 2.5, 0.4, 1.0}, Wave{2, 4.0, 2.0, 0.3}};
  ChannelShapeSettings phantom = imprint_settings();
  phantom.rim_height_um = 4;
  phantom.slot_retention = 0.4;
  phantom.teardrop = 0.5;
  const ScanWindow window{1'000, 2'000, 400, 400, 5};
  const std::vector<ChannelShape> shapes = {
      gaussian_channel(1'500, 2'500, 250, 62.5),
      imprint_channel(1'500, 3'500, 300, kNeedle, phantom, kStroke),
      imprint_channel(2'500, 3'000, 700, kNeedle, phantom, NeedleStroke{10'000, 1'000, 720, -1})};
  REQUIRE(shapes[1].kind == ChannelKind::Cone);
  REQUIRE(shapes[2].kind == ChannelKind::ConeCylinder);
  HeightMapSynth synth(form, shapes, window, test::exact_scanner(), 1, 2);
  const test::HeightMap map = test::synthesise(synth);
  for (const ChannelShape& s : shapes) {
    INFO(to_string(s.kind));
    const int r = static_cast<int>(std::lround((s.x_um - window.x0_um) / window.pitch_um));
    const int c = static_cast<int>(std::lround((s.y_um - window.y0_um) / window.pitch_um));
    const double floor_um = map.at(r, c);
    CHECK(form.height_um(s.x_um, s.y_um) - floor_um == Approx(s.depth_um).margin(0.001));
    // And it is the channel's deepest point.
    for (int dr = -20; dr <= 20; ++dr)
      for (int dc = -20; dc <= 20; ++dc) CHECK(map.at(r + dr, c + dc) >= floor_um);
  }
}
