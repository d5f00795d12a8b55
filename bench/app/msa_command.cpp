// `bench msa SUITE --rig sim --roller FILE [--roller FILE ...] --repeats N [--lanes L]
//  [--parts rollers|needles] --out DIR`: a gauge R&R study of the bench (see msa_runner.hpp).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "bench/app/commands.hpp"
#include "bench/app/run_recording.hpp"
#include "bench/runner/msa_runner.hpp"
#include "bench/suite/suite.hpp"

namespace derma::app {

namespace {

std::atomic<bool> g_msa_stop{false};
extern "C" void on_msa_stop_signal(int) {
  g_msa_stop = true;
}

int usage_error(const std::string& message) {
  std::cerr << "bench msa: " << message << "\n";
  return report::kExitBadInput;
}

std::string format(const char* f, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, args...);
  return buf;
}

std::string percent_or_dash(const std::optional<double>& v) {
  return v ? format("%8.1f", *v) : std::string("       -");
}

// The AIAG summary a quality engineer reads: each source's sd, its share of the total
// variation and of the tolerance, then ndc and the verdict.
std::string console_table(const analysis::GaugeStudy& s, const std::vector<std::string>& dropped) {
  std::string out;
  out += format(
      "gauge R&R (ANOVA, AIAG MSA 4th ed.): %d parts x %d lanes x %d trials, "
      "grand mean %.2f um\n",
      s.parts, s.appraisers, s.trials, s.grand_mean);
  if (s.interaction_p_value)
    out += format("  part x lane interaction: p = %.3f, %s\n", *s.interaction_p_value,
                  s.interaction_in_model ? "kept in the model" : "pooled into repeatability");
  out += "  source                sd (um)   %contrib   %TV   %tolerance\n";
  const auto line = [&](const char* name, const analysis::VarianceComponent& c) {
    out += format("  %-20s %9.3f %9.1f %8.1f", name, c.sd, c.percent_contribution,
                  c.percent_of_total) +
           percent_or_dash(c.percent_tolerance) + "\n";
  };
  line("repeatability (EV)", s.repeatability);
  line("reproducibility", s.reproducibility);
  line("  lane (AV)", s.appraiser);
  line("  part x lane (INT)", s.interaction);
  line("gauge R&R (GRR)", s.grr);
  line("part (PV)", s.part);
  line("total (TV)", s.total);
  if (s.ndc)
    out +=
        format("  ndc = 1.41 PV / GRR = %.2f: %d distinct categories (AIAG asks for 5 or more)\n",
               *s.ndc, *s.distinct_categories);
  else
    out += "  ndc: GRR is 0, the gauge resolves any number of categories\n";
  out += format("verdict: %%GRR %.1f %% of total variation: %s", s.grr.percent_of_total,
                analysis::to_string(s.acceptance));
  if (s.grr.percent_tolerance)
    out += format("; %.1f %% of tolerance: %s", *s.grr.percent_tolerance,
                  analysis::to_string(*s.acceptance_tolerance));
  out += "\n";
  if (!dropped.empty())
    out += format("note: %zu part(s) left out for lacking a measurement in some run, first: %s\n",
                  dropped.size(), dropped.front().c_str());
  return out;
}

}  // namespace

int msa_command(const MsaCommand& cmd) {
  if (cmd.rig != "sim")
    return usage_error("--rig sim only: the study mounts each roller file in the virtual rig");
  if (cmd.parts != "rollers" && cmd.parts != "needles")
    return usage_error("--parts " + cmd.parts + ": rollers or needles");

  auto loaded = suite::load_suite(cmd.suite_file);
  if (!loaded) {
    std::cerr << "bench msa: invalid input: " << loaded.error().to_string() << "\n";
    return report::kExitBadInput;
  }
  std::signal(SIGINT, on_msa_stop_signal);
  std::signal(SIGTERM, on_msa_stop_signal);

  runner::MsaOptions options;
  options.roller_files = cmd.roller_files;
  options.lanes = cmd.lanes;
  options.repeats = cmd.repeats;
  options.parts = cmd.parts == "needles" ? runner::MsaParts::Needles : runner::MsaParts::Rollers;
  options.out_dir = cmd.out_dir;
  options.operator_name = cmd.operator_name;
  if (options.operator_name.empty()) options.operator_name = user_name();
  options.realtime = cmd.realtime;
  options.stop_requested = &g_msa_stop;
  if (!cmd.quiet)
    options.progress = [](const std::string& line) { std::cerr << line << std::endl; };

  const runner::MsaOutcome outcome = runner::run_msa(*loaded, options);
  if (!outcome.error.empty()) {
    std::cerr << "bench msa: "
              << (outcome.exit_code == report::kExitBadInput ? "invalid input: " : "")
              << outcome.error << "\n";
  }
  if (outcome.study) std::cout << console_table(*outcome.study, outcome.dropped_parts);
  if (!outcome.json.is_null()) std::cout << "study: " << cmd.out_dir << "/msa.json\n";
  return outcome.exit_code;
}

}  // namespace derma::app
