#include "bench/suite/product_spec.hpp"

#include "bench/suite/yaml_reader.hpp"

namespace derma::suite {

namespace {

analysis::RollerGeometry read_geometry(const YamlField& g) {
  g.expect_keys({"discs", "needles_per_disc", "drum_diameter_mm", "width_mm", "needle_length_mm",
                 "needle_diameter_mm"});
  analysis::RollerGeometry geometry;
  geometry.discs = g.child("discs").as_int_in(1, 100);
  geometry.needles_per_disc = g.child("needles_per_disc").as_int_in(1, 200);
  geometry.drum_diameter_mm = g.child("drum_diameter_mm").as_number_in(2, 100, "mm");
  geometry.width_mm = g.child("width_mm").as_number_in(2, 100, "mm");
  geometry.needle_length_mm = g.child("needle_length_mm").as_number_in(0.05, 5, "mm");
  geometry.needle_diameter_mm = g.child("needle_diameter_mm").as_number_in(0.02, 1, "mm");
  return geometry;
}

void read_limits(const YamlField& l, analysis::SpecLimits& limits) {
  l.expect_keys({"penetration_depth", "channel_density", "missing_channels", "force_consistency",
                 "depth_uniformity", "roll_slip", "scan"});
  const YamlField depth = l.child("penetration_depth");
  depth.expect_keys({"lsl_um", "usl_um", "min_cpk"});
  limits.depth_lsl_um = depth.child("lsl_um").as_number_in(0, 5000, "um");
  limits.depth_usl_um = depth.child("usl_um").as_number_in(0, 5000, "um");
  if (limits.depth_usl_um <= limits.depth_lsl_um) depth.fail("usl_um must be greater than lsl_um");
  if (auto cpk = depth.optional_child("min_cpk"))
    limits.depth_min_cpk = cpk->as_number_in(0, 10, "");

  const YamlField density = l.child("channel_density");
  density.expect_keys({"min_per_cm2", "max_per_cm2"});
  limits.density_min_per_cm2 = density.child("min_per_cm2").as_number_in(0, 10000, "1/cm2");
  limits.density_max_per_cm2 = density.child("max_per_cm2").as_number_in(0, 10000, "1/cm2");
  if (limits.density_max_per_cm2 <= limits.density_min_per_cm2)
    density.fail("max_per_cm2 must be greater than min_per_cm2");

  const YamlField missing = l.child("missing_channels");
  missing.expect_keys({"max_count"});
  limits.missing_max = missing.child("max_count").as_int_in(0, 100000);

  const YamlField force = l.child("force_consistency");
  force.expect_keys({"max_cv_percent", "max_drift_percent"});
  limits.force_cv_max_percent = force.child("max_cv_percent").as_number_in(0, 100, "%");
  limits.force_drift_max_percent = force.child("max_drift_percent").as_number_in(0, 100, "%");

  const YamlField uniformity = l.child("depth_uniformity");
  uniformity.expect_keys({"max_runout_um", "max_tilt_um_per_mm"});
  limits.runout_max_um = uniformity.child("max_runout_um").as_number_in(0, 5000, "um");
  limits.tilt_max_um_per_mm = uniformity.child("max_tilt_um_per_mm").as_number_in(0, 1000, "um/mm");

  const YamlField slip = l.child("roll_slip");
  slip.expect_keys({"max_percent"});
  limits.slip_max_percent = slip.child("max_percent").as_number_in(0, 100, "%");

  if (auto scan = l.optional_child("scan")) {
    scan->expect_keys({"max_delay_s"});
    limits.scan_delay_max_s = scan->child("max_delay_s").as_number_in(0, 86400, "s");
  }
}

}  // namespace

std::expected<ProductSpec, InputError> load_product_spec(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return std::unexpected(text.error());
  return parse_product_spec(*text, path);
}

std::expected<ProductSpec, InputError> parse_product_spec(const std::string& text,
                                                          const std::string& file) {
  auto root = parse_yaml_text(text, file);
  if (!root) return std::unexpected(root.error());
  ProductSpec spec;
  spec.text = text;
  spec.file = file;
  try {
    const YamlField top(*root, "", spec.file);
    top.expect_keys({"model", "description", "geometry", "limits"});
    spec.model = top.child("model").as_string();
    if (auto d = top.optional_child("description")) spec.description = d->as_string();
    spec.geometry = read_geometry(top.child("geometry"));
    read_limits(top.child("limits"), spec.limits);
  } catch (const InputErrorException& e) {
    return std::unexpected(e.error);
  }
  return spec;
}

}  // namespace derma::suite
