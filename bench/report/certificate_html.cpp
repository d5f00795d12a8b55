// The lot certificate as one self-contained HTML page, in the run report's look (its
// stylesheet, verdict badge and pills) with a few rules of its own; printable on A4. Every
// text from the certificate is escaped: serials, names and reasons come from operators and
// files, never trusted as markup.
#include <string>
#include <vector>

#include "bench/report/certificate.hpp"
#include "bench/report/certificate_text.hpp"
#include "bench/report/html_report.hpp"
#include "bench/report/svg.hpp"

namespace derma::report {

namespace {

namespace text = certificate_text;
using svg::escape;

constexpr const char* kCertificateStyle = R"css(
main.certificate { max-width: 1100px; }
.meta-item.wide { grid-column: 1 / -1; }
/* Labels such as "Sample size n", "Accept Ac" and "(µm)" lose their meaning in capitals. */
main.certificate .meta-item dt, main.certificate th { text-transform: none;
  letter-spacing: 0; font-size: 12px; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
  font-size: 12.5px; overflow-wrap: anywhere; }
.tone-pass { color: var(--pass); font-weight: 700; }
.tone-fail { color: var(--fail); font-weight: 700; }
.decision { margin-top: 24px; padding: 16px 20px; border-radius: 8px; border-left: 6px solid;
  break-inside: avoid; }
.decision-pass { background: var(--pass-bg); border-color: var(--pass); }
.decision-fail { background: var(--fail-bg); border-color: var(--fail); }
.decision h2 { margin: 0 0 10px; padding: 0; border: 0; font-size: 20px; }
.counts { display: flex; flex-wrap: wrap; gap: 12px; margin: 0 0 12px; }
.count { background: #fff; border: 1px solid var(--rule); border-radius: 8px; padding: 8px 16px;
  min-width: 120px; }
.count dt { font-size: 12px; color: var(--muted); font-weight: 600; }
.count dd { margin: 0; font-size: 26px; font-weight: 750; font-variant-numeric: tabular-nums; }
.count-main dd { color: var(--fail); }
.decision-pass .count-main dd { color: var(--pass); }
.sample-line { margin: 0 0 6px; font-weight: 600; }
.reasons { margin: 6px 0 0; padding-left: 22px; }
.reasons li { margin: 3px 0; }
.note { margin: 10px 0 0; color: #374151; }
.rollers { font-size: 12.5px; }
.rollers td, .rollers th { padding: 4px 7px; }
.rollers td.whole { white-space: nowrap; }
.rollers td.checks { overflow-wrap: break-word; min-width: 9em; }
.verdict-badge { flex: none; }
.rollers .num, .rollers code { font-size: inherit; }
.rollers .pill { font-size: 10px; padding: 1px 6px; }
.table-scroll { overflow-x: auto; }
.rollers thead { display: table-header-group; }
.rollers tr { break-inside: avoid; page-break-inside: avoid; }
.signature { margin-top: 36px; padding: 4px 20px 16px; border: 2px solid var(--ink); border-radius: 8px;
  break-inside: avoid; }
.signature h2 { margin-top: 14px; }
.verify { margin: 14px 0 0; font-size: 13px; color: #374151; }
@media print {
  main.certificate { padding: 0; }
  .annex { break-before: page; }
  .masthead { flex-direction: row; align-items: center; }
  main.certificate th { font-size: 9px; }
  .annex h2 { margin-top: 0; }
  .verdict-badge { font-size: 32px; min-width: 150px; padding: 8px 20px; }
  .meta { grid-template-columns: repeat(4, 1fr); }
  .rollers { font-size: 8.5px; }
  .rollers td, .rollers th { padding: 2px 3px; }
  main.certificate .rollers th, .rollers .pill { font-size: 8px; }
  .table-scroll { overflow: visible; }
  .count dd { font-size: 20px; }
}
)css";

// A field's value as markup: escaped, then styled as the field asks.
std::string field_value(const text::Field& f) {
  std::string cls;
  if (f.mono) cls = "mono";
  if (!f.tone.empty()) cls += (cls.empty() ? "" : " ") + std::string("tone-") + f.tone;
  if (cls.empty()) return escape(f.value);
  return "<span class=\"" + cls + "\">" + escape(f.value) + "</span>";
}

std::string fields_grid(const std::vector<text::Field>& fields) {
  std::string out = "<dl class=\"meta\">\n";
  for (const auto& f : fields)
    out += std::string("<div class=\"meta-item") + (f.wide ? " wide" : "") + "\"><dt>" +
           escape(f.label) + "</dt><dd>" + field_value(f) + "</dd></div>\n";
  return out + "</dl>\n";
}

std::string section(const std::string& title, const std::string& body,
                    const std::string& css_class = {}) {
  return (css_class.empty() ? "<section>" : "<section class=\"" + css_class + "\">") + "<h2>" +
         escape(title) + "</h2>\n" + body + "</section>\n";
}

std::string masthead(const Certificate& c) {
  return "<header class=\"masthead\">\n<div class=\"verdict-badge verdict-" +
         text::decision_tone(c) + "\">" + escape(text::decision_label(c)) +
         "</div>\n<div class=\"masthead-text\"><p class=\"eyebrow\">Dermaroller bench \u00b7 "
         "certificate " +
         escape(text::or_dash(c.certificate_id)) + "</p><h1>" + escape(text::title(c)) +
         "</h1><p class=\"subtitle\">Lot <strong>" + escape(text::or_dash(c.lot)) +
         "</strong> of model <strong>" + escape(text::or_dash(c.model)) +
         "</strong>, inspected under " + escape(text::or_dash(c.plan.standard)) +
         "</p></div>\n</header>\n";
}

std::string count_box(const std::string& label, int value, const char* extra_class = "") {
  return std::string("<div class=\"count ") + extra_class + "\"><dt>" + escape(label) +
         "</dt><dd>" + std::to_string(value) + "</dd></div>";
}

std::string decision_section(const Certificate& c) {
  std::string out = "<section class=\"decision decision-" + text::decision_tone(c) +
                    "\"><h2>Decision: " + escape(text::decision_label(c)) + "</h2>\n";
  out += "<dl class=\"counts\">" + count_box("Nonconforming", c.nonconforming, "count-main") +
         count_box("Sample size n", c.plan.sample_size) +
         count_box("Accept Ac", c.plan.accept_number) +
         count_box("Reject Re", c.plan.reject_number) + "</dl>\n";
  out += "<p class=\"sample-line\">" + escape(text::sample_line(c)) + "</p>\n";
  if (!c.reasons.empty()) {
    out += "<ul class=\"reasons\">";
    for (const auto& reason : c.reasons) out += "<li>" + escape(reason) + "</li>";
    out += "</ul>\n";
  }
  return out + "</section>\n";
}

std::string rigs_table(const Certificate& c) {
  if (c.rigs.empty()) return "<p class=\"muted\">No rig is recorded.</p>\n";
  std::string out =
      "<table class=\"compact\"><thead><tr><th>Rig serial</th><th>Firmware</th>"
      "<th>Calibrated</th><th>Calibration due</th><th class=\"num\">Load-cell factor</th>"
      "<th class=\"num\">Rollers run</th></tr></thead><tbody>\n";
  for (const auto& rig : c.rigs)
    out += "<tr><td>" + escape(text::or_dash(rig.serial)) + "</td><td>" +
           escape(text::or_dash(rig.firmware_version)) + "</td><td>" +
           escape(text::or_dash(rig.calibration_date)) + "</td><td>" +
           escape(text::or_dash(rig.calibration_due)) + "</td><td class=\"num\">" +
           escape(text::factor_text(rig.load_cell_factor)) + "</td><td class=\"num\">" +
           std::to_string(rig.rollers) + "</td></tr>\n";
  return out + "</tbody></table>\n";
}

std::string rollers_table(const Certificate& c) {
  if (c.rollers.empty()) return "<p class=\"muted\">No roller was sampled.</p>\n";
  std::string out =
      "<div class=\"table-scroll\"><table class=\"rollers\"><thead><tr><th "
      "class=\"num\">#</th><th>Serial</th>"
      "<th class=\"num\">Run</th><th>Verdict</th><th>Failed checks</th>"
      "<th class=\"num\">Mean depth (\u00b5m)</th>" +
      std::string(text::method_column(c) ? "<th class=\"num\">Method</th>" : "") +
      "<th>Rig</th><th>Phantom lot</th>"
      "<th>Operator</th><th>Finished (UTC)</th><th>Record SHA-256</th></tr></thead><tbody>\n";
  for (std::size_t i = 0; i < c.rollers.size(); ++i) {
    const auto& r = c.rollers[i];
    const std::string tone = text::verdict_tone(r.verdict);
    out += "<tr class=\"row-" + tone + "\"><td class=\"num\">" + std::to_string(i + 1) +
           "</td><td class=\"whole\">" + escape(text::or_dash(r.serial)) +
           "</td><td class=\"num\">" + std::to_string(r.run_id) +
           "</td><td class=\"whole\"><span class=\"pill pill-" + tone + "\">" +
           escape(text::or_dash(r.verdict)) + "</span></td><td class=\"checks\">" +
           escape(text::checks_text(r.failed_checks)) + "</td><td class=\"num\">" +
           escape(text::mean_depth_text(r)) +
           (text::method_column(c) ? "</td><td class=\"num\">" + std::to_string(r.analysis_method)
                                   : std::string()) +
           "</td><td class=\"whole\">" + escape(text::or_dash(r.rig_serial)) +
           "</td><td class=\"whole\">" + escape(text::or_dash(r.phantom_lot)) + "</td><td>" +
           escape(text::or_dash(r.operator_name)) + "</td><td>" +
           escape(text::or_dash(text::utc_compact(r.finished_at))) +
           "</td><td class=\"whole\"><code title=\"" + escape(r.record_sha256) + "\">" +
           escape(text::short_digest(r.record_sha256)) + "</code></td></tr>\n";
  }
  return out + "</tbody></table></div>\n";
}

std::string signature_section(const Certificate& c) {
  return "<section class=\"signature\"><h2>Signature</h2>\n" +
         fields_grid(text::signature_fields(c)) + "<p class=\"verify\">" +
         escape(text::verify_line(c)) + "</p></section>\n";
}

}  // namespace

std::string certificate_html(const Certificate& c) {
  std::string page;
  page.reserve(64 * 1024 + c.rollers.size() * 1024);
  page += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  page += "<title>" +
          escape(text::title(c) + " \u00b7 lot " + text::or_dash(c.lot) + " \u00b7 " +
                 text::decision_label(c)) +
          "</title>\n";
  page += "<style>" + std::string(report_css()) + kCertificateStyle + "</style>\n";
  page += "</head>\n<body>\n<main class=\"certificate\">\n";
  page += masthead(c);
  page += decision_section(c);
  page += section("Lot and specification", fields_grid(text::lot_fields(c)));
  page += section("Sampling plan", fields_grid(text::plan_fields(c.plan)) + "<p class=\"note\">" +
                                       escape(text::plan_note(c.plan)) + "</p>\n");
  page +=
      section("Penetration-depth capability",
              fields_grid(text::capability_fields(c.capability, c.sampled_analysis_methods)) +
                  "<p class=\"note\">" + escape(text::capability_line(c.capability)) + "</p>\n");
  page += section("Rigs", rigs_table(c));
  page += signature_section(c);
  // The certificate proper ends with the signature; the roller table is its annex, which
  // starts on a page of its own when printed (as in the PDF).
  page +=
      section("Annex: sampled rollers (" + text::annex_count(c) + ")", rollers_table(c), "annex");
  page += "<footer><p>Certificate " + escape(text::or_dash(c.certificate_id)) +
          " issued by dermaroller bench " + escape(text::or_dash(c.software_version)) + " on " +
          escape(text::or_dash(c.host_name)) + ", " +
          escape(text::or_dash(text::utc_text(c.signed_at))) +
          ". The signed record is the authoritative form; this page is a rendering of it.</p>"
          "</footer>\n</main>\n</body>\n</html>\n";
  return page;
}

}  // namespace derma::report
