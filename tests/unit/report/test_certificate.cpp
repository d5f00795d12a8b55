// The lot certificate's two renderings: the HTML page names every field and escapes what
// operators typed; the PDF is a well-formed A4 document whose text (read back with
// poppler's pdftotext and pdfinfo, installed by scripts/setup) says the same, on as many
// pages as the roller table needs.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "bench/analysis/method.hpp"
#include "bench/report/certificate.hpp"

using namespace derma;
using report::Certificate;

namespace {

std::string serial_of(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "DR192-%06d", i + 1);
  return buf;
}

Certificate certificate_with(int rollers, int failed = 0) {
  Certificate c;
  c.certificate_id = "CERT-LOT-0042-1";
  c.lot = "LOT-0042";
  c.model = "DR-192-0.50";
  c.spec_file = "fixtures/specs/DR-192-0.50.yaml";
  c.spec_sha256 = std::string(64, 'a');
  c.plan = {"ISO 2859-1:1999 single sampling", "II", "normal", 1.0, 'J', 1000, 80, 2, 3, false};
  c.decision = failed <= 2 ? "accepted" : "rejected";
  c.reasons = {"2 nonconforming rollers of 80 sampled: at most 2 are accepted.",
               "Penetration-depth Cpk lower bound 1.52 meets the minimum 1.33."};
  c.nonconforming = failed;
  for (int i = 0; i < rollers; ++i) {
    report::SampledRoller r;
    r.serial = serial_of(i);
    r.run_id = 1000 + i;
    r.verdict = i < failed ? "fail" : "pass";
    r.failed_checks = i < failed ? "penetration_depth,missing_channels" : "";
    r.mean_depth_um = 325.31 + i % 7;
    r.rig_serial = i % 2 ? "RIG-0002" : "RIG-0001";
    r.phantom_lot = "PH-2026-11";
    r.operator_name = "j.doe";
    r.finished_at = "2026-11-26T15:04:05Z";
    r.record_sha256 = "0123456789abcdef" + std::string(48, 'e');
    c.rollers.push_back(r);
  }
  c.capability.values = std::size_t(rollers) * 192;
  c.capability.mean_um = 325.31;
  c.capability.sd_um = 5.93;
  c.capability.lsl_um = 260;
  c.capability.usl_um = 390;
  c.capability.cpk = 3.61;
  c.capability.cpk_lcb95 = 3.48;
  c.capability.min_cpk = 1.33;
  c.capability.meets = true;
  c.rigs = {{"RIG-0001", "fw 2.4.1", "2026-06-01", "2026-12-01", 1.0123, (rollers + 1) / 2},
            {"RIG-0002", "fw 2.4.1", "2026-05-15", "2026-11-30", 0.9987, rollers / 2}};
  c.phantom_lots = {"PH-2026-11"};
  c.operators = {"j.doe"};
  c.signer = "qa.lead";
  c.signature_meaning = "released";
  c.signed_at = "2026-11-26T16:00:00Z";
  c.software_version = "1.2.3";
  c.host_name = "bench-host-7";
  c.record_sha256 = std::string(64, 'b');
  c.signature_hex = std::string(128, 'c');
  c.public_key_hex = std::string(64, 'd');
  return c;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1))
    ++n;
  return n;
}

// Page objects in the PDF: "/Type /Page" not followed by "s" (that is the page tree).
std::size_t page_objects(const std::string& pdf) {
  // Objects packed in compressed object streams would hide them from a byte search.
  REQUIRE_FALSE(contains(pdf, "/ObjStm"));
  return count_of(pdf, "/Type /Page") - count_of(pdf, "/Type /Pages");
}

// The PDF in a file of its own, removed at the end of the test.
struct PdfFile {
  std::filesystem::path path;
  explicit PdfFile(const std::string& bytes) {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("derma-cert-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".pdf");
    std::ofstream(path, std::ios::binary) << bytes;
  }
  ~PdfFile() { std::filesystem::remove(path); }
};

// stdout of a poppler tool run on the file; fails the test when the tool is missing.
std::string poppler(const std::string& tool, const std::string& args, const PdfFile& file) {
  // pdftotext writes to a file unless told "-" (stdout); pdfinfo always prints.
  const std::string command = tool + " " + args + " '" + file.path.string() + "'" +
                              (tool == "pdftotext" ? " -" : "") + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = ::pclose(pipe);
  INFO(tool << " (poppler-utils, installed by scripts/setup) said: " << out);
  REQUIRE(status == 0);
  return out;
}

std::string pdf_of(const Certificate& c) {
  const auto pdf = report::certificate_pdf(c);
  INFO((pdf ? std::string() : pdf.error()));
  REQUIRE(pdf.has_value());
  return *pdf;
}

int pdfinfo_pages(const PdfFile& file) {
  std::smatch m;
  const std::string info = poppler("pdfinfo", "", file);
  REQUIRE(std::regex_search(info, m, std::regex(R"(Pages:\s+(\d+))")));
  return std::stoi(m[1]);
}

}  // namespace

TEST_CASE("the certificate page names every field an auditor needs") {
  const Certificate c = certificate_with(3, 1);
  const std::string html = report::certificate_html(c);
  for (const std::string& field :
       std::vector<std::string>{"<title>Certificate of conformance",
                                "<h1>Certificate of conformance</h1>",
                                "CERT-LOT-0042-1",
                                "LOT-0042",
                                "DR-192-0.50",
                                "fixtures/specs/DR-192-0.50.yaml",
                                c.spec_sha256,
                                "ISO 2859-1:1999 single sampling",
                                ">II<",
                                ">normal<",
                                ">J<",
                                ">1000<",
                                ">80<",
                                "Accept Ac",
                                "Reject Re",
                                "rollers are drawn at random",
                                "ACCEPTED",
                                "verdict-badge verdict-pass",
                                "2 nonconforming rollers of 80 sampled",
                                "1 nonconforming roller in a sample of 80",
                                "penetration_depth, missing_channels",
                                "326.3",
                                "RIG-0002",
                                "PH-2026-11",
                                "j.doe",
                                "2026-11-26 15:04:05",
                                "0123456789ab\u2026",
                                "title=\"" + c.rollers[0].record_sha256 + "\"",
                                "325.3\u2009\u00b5m",
                                "5.93\u2009\u00b5m",
                                "260.0\u2009\u00b5m",
                                "390.0\u2009\u00b5m",
                                ">3.61<",
                                ">3.48<",
                                ">1.33<",
                                "meets",
                                "fw 2.4.1",
                                "2026-12-01",
                                "2026-06-01",
                                "1.0123",
                                "qa.lead",
                                "released",
                                "2026-11-26 16:00:00 UTC",
                                "dermaroller bench 1.2.3",
                                "bench-host-7",
                                c.record_sha256,
                                c.signature_hex,
                                c.public_key_hex,
                                "bench lot verify CERT-LOT-0042-1.json",
                                "@page",
                                "A4",
                                "@media print"}) {
    INFO(field);
    CHECK(contains(html, field));
  }
  for (const auto& r : c.rollers) {
    CHECK(contains(html, ">" + r.serial + "<"));
    CHECK(contains(html, ">" + std::to_string(r.run_id) + "<"));
  }
  CHECK(count_of(html, "pill pill-fail") == 1);
  CHECK(count_of(html, "pill pill-pass") == 2);
  // Self-contained: nothing to fetch, nothing to run.
  CHECK_FALSE(contains(html, "<script"));
  CHECK_FALSE(contains(html, "src="));
  CHECK_FALSE(contains(html, "http"));
}

TEST_CASE("the certificate page of a rejected, fully inspected lot says so") {
  Certificate c = certificate_with(4, 3);
  c.plan.hundred_percent = true;
  c.plan.lot_size = 4;
  c.plan.sample_size = 4;
  c.capability.meets = false;
  c.capability.cpk_lcb95 = 1.1;
  const std::string html = report::certificate_html(c);
  CHECK(contains(html, "verdict-badge verdict-fail\">REJECTED<"));
  CHECK(contains(html, "decision decision-fail"));
  CHECK(contains(html, "100 % inspection"));
  CHECK(contains(html, "every one of the 4 rollers"));
  CHECK(contains(html, "tone-fail\">does not meet<"));
  CHECK(contains(html, "below the minimum 1.33"));
}

TEST_CASE("a certificate of rollers tested on the virtual rig is titled a demonstration") {
  Certificate c = certificate_with(2);
  c.virtual_rig_rollers = 2;
  const std::string html = report::certificate_html(c);
  CHECK(contains(html, "<title>Demonstration certificate (virtual rig)"));
  CHECK(contains(html, "<h1>Demonstration certificate (virtual rig)</h1>"));
  CHECK_FALSE(contains(html, "Certificate of conformance"));

  const PdfFile file(pdf_of(c));
  const std::string info = poppler("pdfinfo", "", file);
  CHECK(contains(info, "Demonstration certificate (virtual rig) CERT-LOT-0042-1"));
  CHECK(contains(poppler("pdftotext", "", file), "Demonstration certificate (virtual rig)"));
}

TEST_CASE("the certificate names the analysis method of every roller and of the bench") {
  Certificate c = certificate_with(3);
  c.rollers[0].analysis_method = 1;
  c.rollers[1].analysis_method = 2;
  c.rollers[2].analysis_method = 2;
  c.sampled_analysis_methods = {{1, 1}, {2, 2}};
  c.analysis_method = 3;
  c.reasons.insert(c.reasons.begin(), "Mixed analysis methods: as asked");
  const std::string html = report::certificate_html(c);
  for (const std::string& field : std::vector<std::string>{
           "<dt>Depths judged by</dt><dd>methods 1 and 2</dd>",
           "<dt>Analysis method</dt><dd>method 3</dd>", "<th class=\"num\">Method</th>",
           "<li>Mixed analysis methods: as asked</li>"}) {
    INFO(field);
    CHECK(contains(html, field));
  }
  // The method column of each roller, after its mean depth.
  CHECK(contains(html, "326.3</td><td class=\"num\">2</td>"));
  CHECK(contains(html, "325.3</td><td class=\"num\">1</td>"));

  const PdfFile file(pdf_of(c));
  const std::string text = poppler("pdftotext", "", file);
  for (const std::string& field :
       std::vector<std::string>{"Depths judged by", "methods 1 and 2", "Analysis method",
                                "method 3", "Mixed analysis methods: as asked", "Method"}) {
    INFO(field);
    CHECK(contains(text, field));
  }
  CHECK(contains(text,
                 "Annex: sampled rollers of lot LOT-0042 (3, analysis methods 1 and 2)"));
  CHECK(pdfinfo_pages(file) == 2);  // still the certificate page and one annex page

  // One method for every roller: the annex's heading names it, no column is needed.
  c.sampled_analysis_methods = {{2, 3}};
  c.rollers[0].analysis_method = 2;
  const std::string one = report::certificate_html(c);
  CHECK(contains(one, "<dt>Depths judged by</dt><dd>method 2</dd>"));
  CHECK(contains(one, "Annex: sampled rollers (3, analysis method 2)"));
  CHECK_FALSE(contains(one, "<th class=\"num\">Method</th>"));
  const PdfFile one_pdf(pdf_of(c));
  CHECK(contains(poppler("pdftotext", "", one_pdf),
                 "Annex: sampled rollers of lot LOT-0042 (3, analysis method 2)"));
}

TEST_CASE("hostile text on the certificate page is escaped, never markup") {
  Certificate c = certificate_with(2);
  c.rollers[0].serial = "<script>alert('x')</script>";
  c.rollers[1].operator_name = "\"><img src=x onerror=alert(1)>";
  c.rollers[1].record_sha256 = "\" onmouseover=\"alert(2)";
  c.lot = "LOT & <b>bold</b>";
  c.reasons = {"<iframe>"};
  c.signer = "O'Brien <qa@example.com>";
  const std::string html = report::certificate_html(c);
  CHECK_FALSE(contains(html, "<script"));
  CHECK_FALSE(contains(html, "<img"));
  CHECK_FALSE(contains(html, "<iframe"));
  CHECK_FALSE(contains(html, "<b>bold"));
  CHECK_FALSE(contains(html, "\" onmouseover"));
  CHECK(contains(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
  CHECK(contains(html, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
  CHECK(contains(html, "LOT &amp; &lt;b&gt;bold&lt;/b&gt;"));
  CHECK(contains(html, "O&#39;Brien &lt;qa@example.com&gt;"));
}

TEST_CASE("the certificate PDF is a complete document with its metadata") {
  const std::string pdf = pdf_of(certificate_with(1));
  CHECK(pdf.rfind("%PDF-", 0) == 0);
  const auto end = pdf.find_last_not_of("\r\n ");
  REQUIRE(end != std::string::npos);
  CHECK(pdf.substr(end - 4, 5) == "%%EOF");

  const PdfFile file(pdf);
  const std::string info = poppler("pdfinfo", "", file);
  const auto has = [&](const std::string& key, const std::string& value) {
    INFO(key << ": " << value << "\n" << info);
    CHECK(std::regex_search(info, std::regex("(^|\n)" + key + ":\\s+" + value + "\n")));
  };
  has("Title", "Certificate of conformance CERT-LOT-0042-1");
  has("Subject", "Lot LOT-0042 of model DR-192-0\\.50: ACCEPTED");
  has("Creator", "dermaroller bench 1\\.2\\.3");
  has("Author", "qa\\.lead");
  has("Page size", "595\\.276 x 841\\.89 pts \\(A4\\)");
}

TEST_CASE("a one-roller certificate is the certificate page and one annex page") {
  const std::string pdf = pdf_of(certificate_with(1));
  CHECK(page_objects(pdf) == 2);
  const PdfFile file(pdf);
  CHECK(pdfinfo_pages(file) == 2);
  const std::string text = poppler("pdftotext", "", file);
  CHECK(contains(text, "page 1 of 2"));
  CHECK(contains(text, "page 2 of 2"));
  // The signature closes page 1; the roller table starts the annex on page 2.
  const auto page_break = text.find('\f');
  REQUIRE(page_break != std::string::npos);
  CHECK(text.find("Ed25519 public key") < page_break);
  CHECK(text.find("Annex: sampled rollers of lot LOT-0042 (1)") > page_break);
}

TEST_CASE("a 250-roller certificate runs its annex over further pages, every roller once") {
  const Certificate c = certificate_with(250, 5);
  const std::string pdf = pdf_of(c);
  // The certificate page, then the annex: 47 rows on its first page (the 5 failed rows
  // take two lines), 51 on each further page: 47 + 51 * 3 = 200 < 250 <= 251.
  constexpr std::size_t expected_pages = 1 + 5;
  CHECK(page_objects(pdf) == expected_pages);
  const PdfFile file(pdf);
  CHECK(pdfinfo_pages(file) == int(expected_pages));
  const std::string text = poppler("pdftotext", "", file);
  for (std::size_t page = 1; page <= expected_pages; ++page) {
    const std::string footer =
        "page " + std::to_string(page) + " of " + std::to_string(expected_pages);
    INFO(footer);
    CHECK(count_of(text, footer) == 1);
  }
  // The header repeats on every page, the table's continuation on every annex page but one.
  CHECK(count_of(text, "Certificate of conformance \u00b7 lot LOT-0042") == expected_pages);
  CHECK(count_of(text, "Annex: sampled rollers of lot LOT-0042, continued") == expected_pages - 2);
  for (const auto& r : c.rollers) {
    INFO(r.serial);
    CHECK(count_of(text, r.serial) == 1);
  }
}

TEST_CASE("the certificate PDF's text names the lot, the decision, the signer and the digests") {
  Certificate c = certificate_with(12, 3);
  const std::vector<std::string> checks = {"penetration_depth", "missing_channels",
                                           "extra_channels",    "needle_tilt",
                                           "drum_runout",       "force_slip"};
  c.rollers[2].failed_checks =
      "penetration_depth,missing_channels,extra_channels,needle_tilt,"
      "drum_runout,force_slip";
  const PdfFile file(pdf_of(c));
  const std::string text = poppler("pdftotext", "", file);
  for (const std::string& field : std::vector<std::string>{"Certificate of conformance",
                                                           "CERT-LOT-0042-1",
                                                           "LOT-0042",
                                                           "DR-192-0.50",
                                                           "REJECTED",
                                                           "qa.lead",
                                                           "released",
                                                           "2026-11-26 16:00:00 UTC",
                                                           "dermaroller bench 1.2.3",
                                                           "bench-host-7",
                                                           "ISO 2859-1:1999 single sampling",
                                                           "fixtures/specs/DR-192-0.50.yaml",
                                                           "RIG-0001",
                                                           "fw 2.4.1",
                                                           "2026-12-01",
                                                           "1.0123",
                                                           "PH-2026-11",
                                                           "j.doe",
                                                           "3.48",
                                                           "bench lot verify CERT-LOT-0042-1.json",
                                                           c.spec_sha256,
                                                           c.record_sha256,
                                                           c.public_key_hex}) {
    INFO(field);
    CHECK(contains(text, field));
  }
  // 128 hex digits are wider than the page: wrapped, but every digit is there.
  std::string digits;
  for (char ch : text)
    if (ch == 'c') digits += ch;
  CHECK(contains(digits, c.signature_hex));
  for (const auto& r : c.rollers) CHECK(contains(text, r.serial));
  // A roller's failed checks are listed in full, however many.
  for (const auto& check : checks) CHECK(contains(text, check));
}

TEST_CASE("hostile text cannot break the certificate PDF") {
  Certificate c = certificate_with(3);
  c.rollers[0].serial = "<script>\xff\xfe\x01 bad \xc3";  // invalid UTF-8 and a control byte
  c.rollers[1].serial = std::string(5000, 'W');           // wider than any page
  c.lot = "LOT\nwith a newline";
  c.reasons = {std::string(20000, 'x') + " " + std::string(3000, 'y')};
  const PdfFile file(pdf_of(c));
  const std::string text = poppler("pdftotext", "", file);
  CHECK(contains(text, "<script>"));
  CHECK(contains(text, "LOT with a newline"));
  CHECK(contains(text, c.rollers[2].serial));
  CHECK(contains(text, "qa.lead"));
}

TEST_CASE("an empty certificate still renders, with dashes for what is missing") {
  const Certificate c;
  const std::string html = report::certificate_html(c);
  CHECK(contains(html, "Certificate of conformance"));
  CHECK(contains(html, "\u2014 (not signed)"));
  const PdfFile file(pdf_of(c));
  CHECK(pdfinfo_pages(file) == 2);
  CHECK(contains(poppler("pdftotext", "", file), "No roller was sampled."));
}

TEST_CASE("the same certificate renders to the same PDF bytes") {
  // The files' digests are signed beside the record, so a re-rendering must match them.
  const Certificate c = certificate_with(20, 1);
  CHECK(pdf_of(c) == pdf_of(c));
  CHECK(report::certificate_html(c) == report::certificate_html(c));
}
