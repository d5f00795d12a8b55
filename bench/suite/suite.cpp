#include "bench/suite/suite.hpp"

#include <algorithm>
#include <filesystem>

#include "bench/analysis/checks.hpp"
#include "bench/suite/yaml_reader.hpp"

namespace derma::suite {

namespace {

RollStep read_roll(const YamlField& f) {
  f.expect_keys({"start_mm", "stroke_mm", "speed_mm_s", "load_N", "passes", "sample_rate_hz"});
  RollStep roll;
  roll.start_mm = f.child("start_mm").as_number_in(0, 1000, "mm");
  roll.stroke_mm = f.child("stroke_mm").as_number_in(1, 1000, "mm");
  roll.speed_mm_s = f.child("speed_mm_s").as_number_in(0.1, 1000, "mm/s");
  roll.load_N = f.child("load_N").as_number_in(0.01, 1000, "N");
  if (auto p = f.optional_child("passes")) roll.passes = p->as_int_in(1, 20);
  if (auto r = f.optional_child("sample_rate_hz")) roll.sample_rate_hz = r->as_int_in(10, 65535);
  return roll;
}

ScanStep read_scan(const YamlField& f) {
  f.expect_keys({"x_mm", "y_mm", "length_mm", "width_mm", "pitch_um"});
  ScanStep scan;
  scan.x_mm = f.child("x_mm").as_number_in(0, 1000, "mm");
  scan.y_mm = f.child("y_mm").as_number_in(0, 1000, "mm");
  scan.length_mm = f.child("length_mm").as_number_in(0.1, 1000, "mm");
  scan.width_mm = f.child("width_mm").as_number_in(0.1, 1000, "mm");
  scan.pitch_um = f.child("pitch_um").as_int_in(1, 1000);
  const double rows = scan.length_mm * 1000 / scan.pitch_um;
  const double cols = scan.width_mm * 1000 / scan.pitch_um;
  if (rows > 65535 || cols > 65535)
    f.fail("scan would exceed 65535 rows or columns: raise pitch_um");
  return scan;
}

ChecksStep read_checks(const YamlField& f) {
  ChecksStep checks;
  const auto& known = analysis::all_check_ids();
  for (const YamlField& item : f.items()) {
    const std::string id = item.as_string();
    if (id == "all") {
      checks.ids.insert(checks.ids.end(), known.begin(), known.end());
      continue;
    }
    if (std::find(known.begin(), known.end(), id) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      item.fail("unknown check '" + id + "' (known: all, " + list + ")");
    }
    checks.ids.push_back(id);
  }
  if (checks.ids.empty()) f.fail("a checks step needs at least one check id");
  return checks;
}

Step read_step(const YamlField& f) {
  Step step;
  step.line = f.node().Mark().line + 1;
  if (f.is_scalar()) {  // bare word: home, tare
    step.name = f.as_string();
    if (step.name == "home")
      step.action = HomeStep{};
    else if (step.name == "tare")
      step.action = TareStep{};
    else
      f.fail("unknown step '" + step.name + "' (steps: home, tare, lane, roll, scan, checks)");
    return step;
  }
  if (!f.is_map() || f.node().size() != 1)
    f.fail(
        "a step is a word (home, tare) or a mapping with exactly one key (lane, roll, scan, "
        "checks)");
  step.name = f.node().begin()->first.as<std::string>();
  const YamlField body = f.child(step.name);
  if (step.name == "lane")
    step.action = LaneStep{body.as_int_in(0, 255)};
  else if (step.name == "roll")
    step.action = read_roll(body);
  else if (step.name == "scan")
    step.action = read_scan(body);
  else if (step.name == "checks")
    step.action = read_checks(body);
  else if (step.name == "home" || step.name == "tare")
    f.fail("step '" + step.name + "' takes no arguments");
  else
    f.fail("unknown step '" + step.name + "' (steps: home, tare, lane, roll, scan, checks)");
  return step;
}

// The line of `key` in the map `top` (a block map's value starts on the line below its key).
int line_of_key(const YamlField& top, const char* key) {
  for (const auto& item : top.node())
    if (item.first.Scalar() == key) return item.first.Mark().line + 1;
  return 0;
}

// A section for the virtual rig, kept as YAML text: rigsim reads and checks it, bench does not.
VirtualRigSection read_virtual_rig_section(const YamlField& top, const char* key) {
  VirtualRigSection section;
  const auto f = top.optional_child(key);
  if (!f) return section;
  YAML::Emitter flow;
  flow.SetMapFormat(YAML::Flow);
  flow.SetSeqFormat(YAML::Flow);
  flow << f->node();
  if (!flow.good()) f->fail("cannot pass this section to the virtual rig: " + flow.GetLastError());
  section.yaml = flow.c_str();
  section.line = line_of_key(top, key);
  return section;
}

// Checks the order makes physical sense, so a suite fails at load time, not mid-run.
void check_order(const YamlField& steps_field, const std::vector<Step>& steps) {
  bool homed = false, rolled = false, scanned = false;
  const auto items = steps_field.items();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& a = steps[i].action;
    if (std::holds_alternative<HomeStep>(a)) homed = true;
    if ((std::holds_alternative<RollStep>(a) || std::holds_alternative<ScanStep>(a)) && !homed)
      items[i].fail("'" + steps[i].name +
                    "' before any 'home' step: the rig refuses motion before homing");
    if (std::holds_alternative<LaneStep>(a)) rolled = scanned = false;
    if (std::holds_alternative<RollStep>(a)) rolled = true, scanned = false;
    if (std::holds_alternative<ScanStep>(a)) {
      if (!rolled)
        items[i].fail("'scan' before any 'roll' on this lane: there is nothing to measure");
      scanned = true;
    }
    if (std::holds_alternative<ChecksStep>(a) && !(rolled && scanned))
      items[i].fail("'checks' needs a roll and then a scan before it");
  }
  if (steps.empty()) steps_field.fail("a suite needs at least one step");
}

}  // namespace

std::expected<Suite, InputError> load_suite(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return std::unexpected(text.error());
  std::string spec_path;
  auto suite = parse_suite(*text, path, &spec_path);
  if (!suite) return std::unexpected(suite.error());
  if (!std::filesystem::exists(spec_path)) {
    return std::unexpected(InputError{path, suite->spec_line, 0,
                                      "spec: spec file '" + spec_path + "' does not exist"});
  }
  return with_spec(std::move(*suite), spec_path);
}

std::expected<Suite, InputError> parse_suite(const std::string& text, const std::string& file,
                                             std::string* spec_path) {
  auto root = parse_yaml_text(text, file);
  if (!root) return std::unexpected(root.error());
  Suite suite;
  suite.text = text;
  suite.file = file;
  try {
    const YamlField top(*root, "", suite.file);
    top.expect_keys(
        {"suite", "description", "spec", "watchdog_ms", "faults", "phantom", "scanner", "steps"});
    suite.name = top.child("suite").as_string();
    if (auto d = top.optional_child("description")) suite.description = d->as_string();
    if (auto w = top.optional_child("watchdog_ms")) suite.watchdog_ms = w->as_int_in(0, 60000);
    if (auto f = top.optional_child("faults")) {  // a SPEC string or a list of its items
      suite.faults_line = line_of_key(top, "faults");
      if (f->is_sequence()) {
        for (const YamlField& item : f->items())
          suite.faults += (suite.faults.empty() ? "" : ",") + item.as_string();
      } else {
        suite.faults = f->as_string();
      }
    }
    suite.phantom = read_virtual_rig_section(top, "phantom");
    suite.scanner = read_virtual_rig_section(top, "scanner");
    const YamlField spec_field = top.child("spec");
    suite.spec_line = spec_field.node().Mark().line + 1;
    // Paths inside a suite are relative to the suite file (DESIGN section 6).
    const std::filesystem::path relative = spec_field.as_string();
    const std::filesystem::path resolved =
        relative.is_absolute() ? relative : std::filesystem::path(file).parent_path() / relative;
    if (spec_path) *spec_path = resolved.lexically_normal().string();
    const YamlField steps = top.child("steps");
    for (const YamlField& item : steps.items()) suite.steps.push_back(read_step(item));
    check_order(steps, suite.steps);
  } catch (const InputErrorException& e) {
    return std::unexpected(e.error);
  }
  return suite;
}

std::optional<InputError> virtual_rig_only_key(const Suite& suite, const std::string& rig_address) {
  const std::string advice = ": run this suite with --rig sim, not on " + rig_address;
  if (!suite.faults.empty())
    return InputError{suite.file, suite.faults_line, 0,
                      "'faults' are injected by the virtual rig" + advice};
  if (!suite.phantom.yaml.empty())
    return InputError{suite.file, suite.phantom.line, 0,
                      "'phantom' sets the virtual rig's phantom" + advice};
  if (!suite.scanner.yaml.empty())
    return InputError{suite.file, suite.scanner.line, 0,
                      "'scanner' sets the virtual rig's scanner" + advice};
  return std::nullopt;
}

std::expected<Suite, InputError> with_spec(Suite suite, const std::string& spec_path) {
  auto spec = load_product_spec(spec_path);
  if (!spec) return std::unexpected(spec.error());
  suite.spec = std::move(*spec);
  return suite;
}

}  // namespace derma::suite
