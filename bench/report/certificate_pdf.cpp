// The lot certificate as an A4 PDF for the archive, drawn with cairo's PDF surface and its
// "toy" text API (one face per style, no shaping: the certificate's text is Latin with a
// few symbols, all in DejaVu). The layout is a simple top-to-bottom flow: blocks that must
// stay whole move to the next page, the roller table breaks between rows and repeats its
// header. The document is laid out twice: once to count the pages, once to draw them with
// "page i of n" in the footer (cairo cannot go back to a finished page).
#include <cairo-pdf.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/common/shared_library.hpp"
#include "bench/report/certificate.hpp"
#include "bench/report/certificate_text.hpp"

namespace derma::report {

namespace {

namespace text = certificate_text;
using text::Field;

// ---------------------------------------------------------------- page geometry (points)

constexpr double kPageWidth = 595.276;   // A4, 210 mm
constexpr double kPageHeight = 841.890;  // 297 mm
constexpr double kMargin = 42.52;        // 15 mm left and right
constexpr double kContentLeft = kMargin;
constexpr double kContentWidth = kPageWidth - 2 * kMargin;
constexpr double kContentRight = kContentLeft + kContentWidth;
constexpr double kHeaderBaseline = 30;
constexpr double kContentTop = 50;
constexpr double kContentBottom = kPageHeight - 42;
constexpr double kFooterBaseline = kPageHeight - 26;

// ---------------------------------------------------------------- colours and fonts

struct Colour {
  double r, g, b;
};

constexpr Colour rgb(unsigned hex) {
  return {((hex >> 16) & 0xff) / 255.0, ((hex >> 8) & 0xff) / 255.0, (hex & 0xff) / 255.0};
}

// The run report's palette (bench/report/html_report.cpp), so paper and screen agree.
constexpr Colour kInk = rgb(0x111827), kBody = rgb(0x374151), kMuted = rgb(0x6b7280),
                 kRule = rgb(0xe5e7eb), kPanel = rgb(0xf9fafb), kWhite = rgb(0xffffff),
                 kPass = rgb(0x1a7f37), kPassBg = rgb(0xdafbe1), kFail = rgb(0xcf222e),
                 kFailBg = rgb(0xffebe9), kError = rgb(0x9a6700);

Colour tone_colour(const std::string& tone) {
  if (tone == "pass") return kPass;
  if (tone == "fail") return kFail;
  if (tone == "error") return kError;
  return kInk;
}

enum class Face { Sans, SansBold, Narrow, NarrowBold, Mono };

struct Font {
  Face face;
  double size;
  double line() const { return size * 1.3; }
};

constexpr Font kTitleFont{Face::SansBold, 19};
constexpr Font kHeadingFont{Face::SansBold, 10.5};
constexpr Font kBodyFont{Face::Sans, 8.5};
constexpr Font kLabelFont{Face::NarrowBold, 6.8};
constexpr Font kValueFont{Face::Sans, 8.5};
constexpr Font kMonoFont{Face::Mono, 7.6};
constexpr Font kSmallFont{Face::Sans, 7.5};
constexpr Font kTableFont{Face::Narrow, 7.2};
constexpr Font kTableMonoFont{Face::Mono, 6.6};
constexpr Font kTableHeadFont{Face::NarrowBold, 6.8};

enum class Align { Left, Right, Centre };

// ---------------------------------------------------------------- text cleaning

bool continuation(std::string_view s, std::size_t i) {
  return i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80;
}

// Length of the valid UTF-8 sequence at i, or 0 (overlong forms and surrogates are invalid).
std::size_t sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(s, i + 1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!continuation(s, i + 1) || !continuation(s, i + 2)) return 0;
    if (lead == 0xE0 && byte(i + 1) < 0xA0) return 0;
    if (lead == 0xED && byte(i + 1) >= 0xA0) return 0;
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!continuation(s, i + 1) || !continuation(s, i + 2) || !continuation(s, i + 3)) return 0;
    if (lead == 0xF0 && byte(i + 1) < 0x90) return 0;
    if (lead == 0xF4 && byte(i + 1) >= 0x90) return 0;
    return 4;
  }
  return 0;
}

// cairo refuses text that is not UTF-8 (and the context then draws nothing more), so
// invalid bytes become U+FFFD; control characters (C0 and C1), which have no glyph, a space.
std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = sequence_length(s, i);
    const auto lead = static_cast<unsigned char>(s[i]);
    if (n == 0) {
      out += "\uFFFD";
      ++i;
    } else if ((n == 1 && (lead < 0x20 || lead == 0x7f)) ||
               (n == 2 && lead == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0)) {
      out += ' ';
      i += n;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

// Byte offsets where a code point starts, plus the end.
std::vector<std::size_t> code_point_starts(const std::string& s) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  starts.push_back(s.size());
  return starts;
}

// ---------------------------------------------------------------- cairo, loaded when first needed

// The cairo functions the certificate calls, loaded with cairo (and its font and X11 stack)
// when the first certificate is drawn: bench/common/shared_library.hpp says why.
struct Cairo {
  decltype(&::cairo_arc) cairo_arc;
  decltype(&::cairo_close_path) cairo_close_path;
  decltype(&::cairo_create) cairo_create;
  decltype(&::cairo_destroy) cairo_destroy;
  decltype(&::cairo_fill) cairo_fill;
  decltype(&::cairo_line_to) cairo_line_to;
  decltype(&::cairo_move_to) cairo_move_to;
  decltype(&::cairo_new_path) cairo_new_path;
  decltype(&::cairo_pdf_surface_add_outline) cairo_pdf_surface_add_outline;
  decltype(&::cairo_pdf_surface_create_for_stream) cairo_pdf_surface_create_for_stream;
  decltype(&::cairo_pdf_surface_set_metadata) cairo_pdf_surface_set_metadata;
  decltype(&::cairo_rectangle) cairo_rectangle;
  decltype(&::cairo_select_font_face) cairo_select_font_face;
  decltype(&::cairo_set_font_size) cairo_set_font_size;
  decltype(&::cairo_set_line_width) cairo_set_line_width;
  decltype(&::cairo_set_source_rgb) cairo_set_source_rgb;
  decltype(&::cairo_show_page) cairo_show_page;
  decltype(&::cairo_show_text) cairo_show_text;
  decltype(&::cairo_status) cairo_status;
  decltype(&::cairo_status_to_string) cairo_status_to_string;
  decltype(&::cairo_stroke) cairo_stroke;
  decltype(&::cairo_surface_destroy) cairo_surface_destroy;
  decltype(&::cairo_surface_finish) cairo_surface_finish;
  decltype(&::cairo_surface_status) cairo_surface_status;
  decltype(&::cairo_text_extents) cairo_text_extents;
};

void bind_cairo(common::SharedLibrary& library, Cairo& functions) {
#define BIND(name) library.bind(functions.name, #name)
  BIND(cairo_arc);
  BIND(cairo_close_path);
  BIND(cairo_create);
  BIND(cairo_destroy);
  BIND(cairo_fill);
  BIND(cairo_line_to);
  BIND(cairo_move_to);
  BIND(cairo_new_path);
  BIND(cairo_pdf_surface_add_outline);
  BIND(cairo_pdf_surface_create_for_stream);
  BIND(cairo_pdf_surface_set_metadata);
  BIND(cairo_rectangle);
  BIND(cairo_select_font_face);
  BIND(cairo_set_font_size);
  BIND(cairo_set_line_width);
  BIND(cairo_set_source_rgb);
  BIND(cairo_show_page);
  BIND(cairo_show_text);
  BIND(cairo_status);
  BIND(cairo_status_to_string);
  BIND(cairo_stroke);
  BIND(cairo_surface_destroy);
  BIND(cairo_surface_finish);
  BIND(cairo_surface_status);
  BIND(cairo_text_extents);
#undef BIND
}

const std::expected<Cairo, std::string>& load_cairo() {
  static const auto loaded =
      common::SharedLibrary::load<Cairo>("libcairo.so.2", "drawing a certificate PDF", bind_cairo);
  return loaded;
}

// Only called once certificate_pdf() has loaded cairo.
const Cairo& cairo() {
  return *load_cairo();
}

// ---------------------------------------------------------------- the page flow

// A cairo context on a PDF surface, a cursor going down the page, and the page furniture.
class Flow {
 public:
  Flow(cairo_surface_t* surface, const Certificate& c, int page_count)
      : surface_(surface), cr_(cairo().cairo_create(surface)), page_count_(page_count) {
    header_left_ = printable(text::title(c) + " \u00b7 lot " + text::or_dash(c.lot) + " \u00b7 " +
                             text::or_dash(c.model));
    header_right_ = printable(text::or_dash(c.certificate_id));
    footer_left_ = printable(text::decision_label(c) + " \u00b7 signed by " +
                             text::or_dash(c.signer) + ", " + text::utc_text(c.signed_at) +
                             " \u00b7 dermaroller bench " + text::or_dash(c.software_version));
    furniture();
  }
  ~Flow() { cairo().cairo_destroy(cr_); }
  Flow(const Flow&) = delete;
  Flow& operator=(const Flow&) = delete;

  // Ends the last page; returns how many pages there were.
  int finish() {
    cairo().cairo_show_page(cr_);
    return page_;
  }
  cairo_status_t status() const { return cairo().cairo_status(cr_); }

  double y() const { return y_; }
  void advance(double height) { y_ += height; }
  static double page_room() { return kContentBottom - kContentTop; }

  // Starts a new page unless `height` still fits (or the page is empty: what is taller than
  // a page has to start somewhere).
  bool ensure(double height) {
    if (y_ + height <= kContentBottom || y_ <= kContentTop + 0.5) return false;
    new_page();
    return true;
  }

  void new_page() {
    cairo().cairo_show_page(cr_);
    ++page_;
    furniture();
  }

  // A bookmark in the viewer's outline pointing at the current position.
  void bookmark(const std::string& title) {
    char where[64];
    std::snprintf(where, sizeof where, "page=%d pos=[%.1f %.1f]", page_, kContentLeft, y_);
    cairo().cairo_pdf_surface_add_outline(surface_, CAIRO_PDF_OUTLINE_ROOT,
                                          printable(title).c_str(), where,
                                          CAIRO_PDF_OUTLINE_FLAG_OPEN);
  }

  // ------------------------------------------------------------ measuring

  double width(std::string_view s, const Font& f) {
    use(f);
    cairo_text_extents_t e;
    cairo().cairo_text_extents(cr_, std::string(s).c_str(), &e);
    return e.x_advance;
  }

  // Greedy line breaking at spaces; a word wider than the line breaks between characters
  // (digests, long serials). At most max_lines lines: the last one then ends in an ellipsis.
  std::vector<std::string> wrap(const std::string& raw, const Font& f, double max_width,
                                std::size_t max_lines = 1000) {
    const std::string s = printable(raw);
    std::vector<std::string> lines;
    std::string current;
    std::size_t start = 0;
    while (start <= s.size()) {
      std::size_t end = s.find(' ', start);
      if (end == std::string::npos) end = s.size();
      std::string word = s.substr(start, end - start);
      start = end + 1;
      if (word.empty()) continue;
      const std::string candidate = current.empty() ? word : current + " " + word;
      if (width(candidate, f) <= max_width) {
        current = candidate;
        continue;
      }
      if (!current.empty()) lines.push_back(current);
      current.clear();
      for (std::size_t cut; (cut = longest_fitting_prefix(word, f, max_width)) < word.size();) {
        lines.push_back(word.substr(0, cut));
        word.erase(0, cut);
      }
      current = word;
    }
    if (!current.empty() || lines.empty()) lines.push_back(current);
    if (lines.size() > max_lines) {
      lines.resize(max_lines);
      std::string& last = lines.back();
      const auto starts = code_point_starts(last);
      std::size_t k = starts.size() - 1;
      while (k > 0 && width(last.substr(0, starts[k]) + "\u2026", f) > max_width) --k;
      last = last.substr(0, starts[k]) + "\u2026";
    }
    return lines;
  }

  // ------------------------------------------------------------ drawing

  // One line of text in a line box whose top is `top`; x is the left edge, or the right
  // edge / centre for those alignments.
  void text_line(const std::string& s, const Font& f, Colour colour, double x, double top,
                 Align align = Align::Left) {
    const std::string clean = printable(s);
    use(f);
    double left = x;
    if (align != Align::Left) {
      const double w = width(clean, f);
      left = align == Align::Right ? x - w : x - w / 2;
    }
    // Baseline so capitals sit in the middle of the line box (DejaVu cap height ~0.73 em).
    const double baseline = top + f.line() / 2 + 0.36 * f.size;
    set_colour(colour);
    cairo().cairo_move_to(cr_, left, baseline);
    cairo().cairo_show_text(cr_, clean.c_str());
  }

  void lines(const std::vector<std::string>& ls, const Font& f, Colour colour, double x, double top,
             Align align = Align::Left) {
    for (std::size_t i = 0; i < ls.size(); ++i)
      text_line(ls[i], f, colour, x, top + static_cast<double>(i) * f.line(), align);
  }

  void box(double x, double y, double w, double h, Colour fill, double radius = 0) {
    path(x, y, w, h, radius);
    set_colour(fill);
    cairo().cairo_fill(cr_);
  }

  void frame(double x, double y, double w, double h, Colour stroke, double line_width,
             double radius = 0) {
    path(x, y, w, h, radius);
    set_colour(stroke);
    cairo().cairo_set_line_width(cr_, line_width);
    cairo().cairo_stroke(cr_);
  }

  void rule(double x1, double x2, double y, Colour colour, double line_width) {
    set_colour(colour);
    cairo().cairo_set_line_width(cr_, line_width);
    cairo().cairo_move_to(cr_, x1, y);
    cairo().cairo_line_to(cr_, x2, y);
    cairo().cairo_stroke(cr_);
  }

 private:
  void furniture() {
    y_ = kContentTop;
    text_line(header_left_, kSmallFont, kMuted, kContentLeft, kHeaderBaseline - 8);
    text_line(header_right_, {Face::SansBold, 7.5}, kInk, kContentRight, kHeaderBaseline - 8,
              Align::Right);
    rule(kContentLeft, kContentRight, kHeaderBaseline + 5, kRule, 0.8);
    rule(kContentLeft, kContentRight, kFooterBaseline - 11, kRule, 0.8);
    const double footer_top = kFooterBaseline - 8;
    const std::string pages =
        page_count_ > 0 ? "page " + std::to_string(page_) + " of " + std::to_string(page_count_)
                        : "page " + std::to_string(page_);
    text_line(pages, {Face::SansBold, 7.5}, kInk, kContentRight, footer_top, Align::Right);
    const double room = kContentWidth - width(pages, {Face::SansBold, 7.5}) - 24;
    text_line(wrap(footer_left_, kSmallFont, room, 1).front(), kSmallFont, kMuted, kContentLeft,
              footer_top);
  }

  std::size_t longest_fitting_prefix(const std::string& word, const Font& f, double max_width) {
    const auto starts = code_point_starts(word);
    // starts[1] is one whole code point: always take at least that, or nothing advances.
    // No glyph of these faces is narrower than a fifth of an em, which bounds the search
    // (a 20,000-character token must not be measured whole at every step).
    const auto most = static_cast<std::size_t>(max_width / (0.2 * f.size)) + 1;
    std::size_t lo = 1, hi = std::max<std::size_t>(1, std::min(starts.size() - 1, most));
    while (lo < hi) {
      const std::size_t mid = (lo + hi + 1) / 2;
      if (width(word.substr(0, starts[mid]), f) <= max_width)
        lo = mid;
      else
        hi = mid - 1;
    }
    return starts[lo];
  }

  void path(double x, double y, double w, double h, double radius) {
    cairo().cairo_new_path(cr_);
    if (radius <= 0) {
      cairo().cairo_rectangle(cr_, x, y, w, h);
      return;
    }
    const double r = std::min({radius, w / 2, h / 2});
    cairo().cairo_arc(cr_, x + w - r, y + r, r, -M_PI / 2, 0);
    cairo().cairo_arc(cr_, x + w - r, y + h - r, r, 0, M_PI / 2);
    cairo().cairo_arc(cr_, x + r, y + h - r, r, M_PI / 2, M_PI);
    cairo().cairo_arc(cr_, x + r, y + r, r, M_PI, 3 * M_PI / 2);
    cairo().cairo_close_path(cr_);
  }

  void set_colour(Colour c) { cairo().cairo_set_source_rgb(cr_, c.r, c.g, c.b); }

  void use(const Font& f) {
    if (current_ && current_->face == f.face && current_->size == f.size) return;
    const bool bold = f.face == Face::SansBold || f.face == Face::NarrowBold;
    const char* family = f.face == Face::Mono ? "DejaVu Sans Mono"
                         : f.face == Face::Narrow || f.face == Face::NarrowBold
                             ? "DejaVu Sans Condensed"
                             : "DejaVu Sans";
    cairo().cairo_select_font_face(cr_, family, CAIRO_FONT_SLANT_NORMAL,
                                   bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo().cairo_set_font_size(cr_, f.size);
    current_ = f;
  }

  cairo_surface_t* surface_;
  cairo_t* cr_;
  int page_count_;  // 0 while counting
  int page_ = 1;
  double y_ = kContentTop;
  std::optional<Font> current_;
  std::string header_left_, header_right_, footer_left_;
};

// ---------------------------------------------------------------- blocks

constexpr double kSectionGap = 9;
constexpr double kHeadingHeight = kHeadingFont.size * 1.3 + 6;

// A section title with a rule under it, kept on the same page as the first `keep_with_next`
// points of what follows.
void heading(Flow& flow, const std::string& title, double keep_with_next) {
  // The gap above a heading is left out at the top of a page.
  if (flow.y() > kContentTop + 0.5 && !flow.ensure(kSectionGap + kHeadingHeight + keep_with_next))
    flow.advance(kSectionGap);
  flow.bookmark(title);
  flow.text_line(title, kHeadingFont, kInk, kContentLeft, flow.y());
  flow.rule(kContentLeft, kContentRight, flow.y() + kHeadingFont.line() + 1.5, kRule, 1);
  flow.advance(kHeadingHeight);
}

// A paragraph that may break between lines; `bullet` hangs in the left indent.
void paragraph(Flow& flow, const std::string& body, const Font& f, Colour colour, double indent = 0,
               const std::string& bullet = {}) {
  const auto ls = flow.wrap(body, f, kContentWidth - indent);
  for (std::size_t i = 0; i < ls.size(); ++i) {
    flow.ensure(f.line());
    if (i == 0 && !bullet.empty())
      flow.text_line(bullet, f, colour, kContentLeft + indent - 9, flow.y());
    flow.text_line(ls[i], f, colour, kContentLeft + indent, flow.y());
    flow.advance(f.line());
  }
}

double paragraph_height(Flow& flow, const std::string& body, const Font& f, double indent = 0) {
  return double(flow.wrap(body, f, kContentWidth - indent).size()) * f.line();
}

// Labelled values on a light panel. Ordinary fields sit `columns` to a row, label above
// value; a wide field takes a row of its own with its label in a left gutter.
class FieldsPanel {
 public:
  FieldsPanel(Flow& flow, const std::vector<Field>& fields, int columns) : flow_(flow) {
    const double inner = kContentWidth - 2 * kPad;
    const double column_width = (inner - kGap * (columns - 1)) / columns;
    for (const Field& f : fields) {
      const bool new_row = f.wide || rows_.empty() ||
                           rows_.back().cells.size() >= std::size_t(columns) ||
                           rows_.back().cells.front().field->wide;
      if (new_row) rows_.emplace_back();
      Cell cell{&f, {}, 0, 0};
      if (f.wide) {
        cell.x = kContentLeft + kPad + kGutter;
        cell.width = inner - kGutter;
      } else {
        cell.x = kContentLeft + kPad + double(rows_.back().cells.size()) * (column_width + kGap);
        cell.width = column_width;
      }
      cell.lines = flow.wrap(f.value, value_font(f), cell.width, 12);
      rows_.back().cells.push_back(std::move(cell));
    }
    total_ = 2 * kPad;
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      Row& row = rows_[r];
      for (const Cell& cell : row.cells) {
        const double values = double(cell.lines.size()) * value_font(*cell.field).line();
        row.height = std::max(row.height, cell.field->wide ? values : kLabelFont.line() + values);
      }
      total_ += row.height + (r + 1 < rows_.size() ? gap_after(r) : 0);
    }
  }

  double height() const { return total_; }

  // Whole on one page when it can be (on a panel); else row by row without one.
  void draw() {
    const bool whole = total_ <= Flow::page_room();
    if (whole) {
      flow_.ensure(total_);
      flow_.box(kContentLeft, flow_.y(), kContentWidth, total_, kPanel, 5);
      flow_.frame(kContentLeft, flow_.y(), kContentWidth, total_, kRule, 0.8, 5);
    }
    flow_.advance(kPad);
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      if (!whole) flow_.ensure(rows_[r].height);
      for (const Cell& cell : rows_[r].cells) draw_cell(cell);
      flow_.advance(rows_[r].height + (r + 1 < rows_.size() ? gap_after(r) : 0));
    }
    flow_.advance(kPad);
  }

 private:
  static constexpr double kPad = 6, kGap = 12, kGutter = 104, kRowGap = 4, kWideRowGap = 2.5;

  struct Cell {
    const Field* field;
    std::vector<std::string> lines;
    double x, width;
  };
  struct Row {
    std::vector<Cell> cells;
    double height = 0;
  };

  static Font value_font(const Field& f) {
    if (f.mono) return kMonoFont;
    return f.tone.empty() ? kValueFont : Font{Face::SansBold, kValueFont.size};
  }

  // Wide rows read as a list: closer together than the stacked ones.
  double gap_after(std::size_t r) const {
    const bool wide_pair = rows_[r].cells.front().field->wide && r + 1 < rows_.size() &&
                           rows_[r + 1].cells.front().field->wide;
    return wide_pair ? kWideRowGap : kRowGap;
  }

  void draw_cell(const Cell& cell) {
    const Field& f = *cell.field;
    const Font font = value_font(f);
    const Colour colour = f.tone.empty() ? kInk : tone_colour(f.tone);
    if (f.wide) {
      // Label and the value's first line share a baseline.
      const double shift =
          (font.line() - kLabelFont.line()) / 2 + 0.36 * (font.size - kLabelFont.size);
      flow_.text_line(f.label, kLabelFont, kMuted, kContentLeft + kPad, flow_.y() + shift);
      flow_.lines(cell.lines, font, colour, cell.x, flow_.y());
      return;
    }
    flow_.text_line(f.label, kLabelFont, kMuted, cell.x, flow_.y());
    flow_.lines(cell.lines, font, colour, cell.x, flow_.y() + kLabelFont.line());
  }

  Flow& flow_;
  std::vector<Row> rows_;
  double total_ = 0;
};

// ---------------------------------------------------------------- tables

struct Column {
  std::string title;
  Align align = Align::Left;
  bool mono = false;
  // Fixed columns are as wide as their widest cell; the others share what is left by weight.
  bool fixed = false;
  double weight = 1;
};

struct Cell {
  std::string text;
  Colour colour = kInk;
  bool bold = false;
};

struct Row {
  std::vector<Cell> cells;
  std::optional<Colour> background;
};

class Table {
 public:
  Table(Flow& flow, std::vector<Column> columns, std::string continued)
      : flow_(flow), columns_(std::move(columns)), continued_(std::move(continued)) {}

  void draw(const std::vector<Row>& rows) {
    size_columns(rows);
    measure_header();
    header();
    for (const Row& row : rows) draw_row(row);
  }

  // Header plus one ordinary row: what a heading above the table must keep with it.
  // A row of one line.
  static double row_height() { return kTableFont.line() + 2 * kPadY; }
  // Header (of up to three lines) and one row: what a heading above the table keeps with it.
  static double lead_height() { return 3 * kTableHeadFont.line() + 2 * kPadY + 0.8 + row_height(); }

 private:
  static constexpr double kPadX = 3.5, kPadY = 2.2;

  Font font_of(const Column& c, bool bold) const {
    if (c.mono) return kTableMonoFont;
    return {bold ? Face::NarrowBold : Face::Narrow, kTableFont.size};
  }

  // Every column as wide as its widest cell on one line when the page allows; else the
  // flexible columns give way (down to their title's longest word) and wrap. Fixed columns
  // never shrink; what is left over goes to the flexible ones by weight.
  void size_columns(const std::vector<Row>& rows) {
    const std::size_t n = columns_.size();
    std::vector<double> natural(n), minimum(n);
    for (std::size_t i = 0; i < n; ++i) {
      const Column& c = columns_[i];
      double title_word = 0;
      for (std::size_t at = 0; at <= c.title.size();) {
        std::size_t space = c.title.find(' ', at);
        if (space == std::string::npos) space = c.title.size();
        title_word =
            std::max(title_word, flow_.width(c.title.substr(at, space - at), kTableHeadFont));
        at = space + 1;
      }
      double widest = title_word;
      for (const Row& row : rows)
        widest = std::max(widest,
                          flow_.width(printable(row.cells[i].text), font_of(c, row.cells[i].bold)));
      // A hostile value must not squeeze every other column out.
      widest = std::min(widest, kContentWidth / (c.fixed ? 6 : 4));
      natural[i] = widest + 2 * kPadX;
      minimum[i] = c.fixed ? natural[i] : title_word + 2 * kPadX;
    }
    widths_ = natural;
    double total = 0, weights = 0;
    for (std::size_t i = 0; i < n; ++i) {
      total += natural[i];
      if (!columns_[i].fixed) weights += columns_[i].weight;
    }
    if (total <= kContentWidth) {
      for (std::size_t i = 0; i < n; ++i)
        if (!columns_[i].fixed)
          widths_[i] += (kContentWidth - total) * columns_[i].weight / weights;
      return;
    }
    // Cap the flexible columns at one level, found by bisection, so the widest ones wrap
    // first and the short ones (a rig serial, a phantom lot) stay on one line.
    const auto width_at = [&](double level) {
      double sum = 0;
      for (std::size_t i = 0; i < n; ++i)
        sum += columns_[i].fixed ? natural[i] : std::max(minimum[i], std::min(natural[i], level));
      return sum;
    };
    double lo = 0, hi = kContentWidth;
    for (int step = 0; step < 40; ++step) {
      const double mid = (lo + hi) / 2;
      (width_at(mid) > kContentWidth ? hi : lo) = mid;
    }
    total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!columns_[i].fixed) widths_[i] = std::max(minimum[i], std::min(natural[i], lo));
      total += widths_[i];
    }
    // Still too wide (hostile fixed cells or long titles): every column gives way in proportion.
    if (total > kContentWidth)
      for (double& w : widths_) w *= kContentWidth / total;
  }

  void measure_header() {
    header_lines_.clear();
    std::size_t most = 1;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      header_lines_.push_back(
          flow_.wrap(columns_[i].title, kTableHeadFont, widths_[i] - 2 * kPadX, 3));
      most = std::max(most, header_lines_.back().size());
    }
    header_height_ = double(most) * kTableHeadFont.line() + 2 * kPadY;
  }

  void header() {
    double x = kContentLeft;
    const double top = flow_.y();
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      const Column& c = columns_[i];
      // Titles sit on the rule, like the HTML report's table headers.
      const double lines_top =
          top + header_height_ - kPadY - double(header_lines_[i].size()) * kTableHeadFont.line();
      flow_.lines(header_lines_[i], kTableHeadFont, kMuted, anchor(x, i, c.align), lines_top,
                  c.align);
      x += widths_[i];
    }
    flow_.rule(kContentLeft, kContentRight, top + header_height_, kRule, 1.6);
    flow_.advance(header_height_ + 0.8);
  }

  double anchor(double x, std::size_t i, Align align) const {
    if (align == Align::Right) return x + widths_[i] - kPadX;
    if (align == Align::Centre) return x + widths_[i] / 2;
    return x + kPadX;
  }

  void draw_row(const Row& row) {
    std::vector<std::vector<std::string>> cell_lines;
    std::size_t most = 1;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      const Font f = font_of(columns_[i], row.cells[i].bold);
      // Capped only against hostile values: a roller failing every check still lists them all.
      cell_lines.push_back(flow_.wrap(row.cells[i].text, f, widths_[i] - 2 * kPadX, 12));
      most = std::max(most, cell_lines.back().size());
    }
    const double height = double(most) * kTableFont.line() + 2 * kPadY;
    if (flow_.ensure(height)) {
      flow_.text_line(continued_, kSmallFont, kMuted, kContentLeft, flow_.y());
      flow_.advance(kSmallFont.line() + 2);
      header();
    }
    const double top = flow_.y();
    if (row.background) flow_.box(kContentLeft, top, kContentWidth, height, *row.background);
    double x = kContentLeft;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      const Column& c = columns_[i];
      const Font f = font_of(c, row.cells[i].bold);
      // Mono cells are set smaller: on the same baseline as the others.
      const double shift = (kTableFont.line() - f.line()) / 2 + 0.36 * (kTableFont.size - f.size);
      flow_.lines(cell_lines[i], f, row.cells[i].colour, anchor(x, i, c.align), top + kPadY + shift,
                  c.align);
      x += widths_[i];
    }
    flow_.rule(kContentLeft, kContentRight, top + height, kRule, 0.5);
    flow_.advance(height);
  }

  Flow& flow_;
  std::vector<Column> columns_;
  std::string continued_;
  std::vector<double> widths_;
  std::vector<std::vector<std::string>> header_lines_;
  double header_height_ = 0;
};

// ---------------------------------------------------------------- the certificate

void title_block(Flow& flow, const Certificate& c) {
  flow.text_line(text::title(c), kTitleFont, kInk, kContentLeft, flow.y());
  flow.advance(kTitleFont.line());
  paragraph(flow,
            "Lot " + text::or_dash(c.lot) + " of model " + text::or_dash(c.model) +
                ", inspected under " + text::or_dash(c.plan.standard),
            {Face::Sans, 10}, kBody);
  flow.advance(5);
  flow.rule(kContentLeft, kContentRight, flow.y(), kInk, 2);
  flow.advance(10);
}

// The decision on a tinted panel: the badge, the four numbers it rests on, in words below;
// then the reasons as bullets.
void decision_block(Flow& flow, const Certificate& c) {
  constexpr double pad = 8, badge_height = 44;
  const Font badge_font{Face::SansBold, 21};
  const Font number_font{Face::SansBold, 15};
  const std::string label = text::decision_label(c);
  const double badge_width = std::max(146.0, flow.width(label, badge_font) + 30);
  const Colour tone = tone_colour(text::decision_tone(c));
  const Colour tone_bg = text::accepted(c) ? kPassBg : kFailBg;

  const double counts_left = kContentLeft + pad + badge_width + 16;
  const double counts_width = kContentRight - pad - counts_left;
  const auto sample = flow.wrap(text::sample_line(c), kBodyFont, counts_width);
  const double counts_height = kLabelFont.line() + number_font.line();
  const double inner =
      std::max(badge_height, counts_height + 3 + double(sample.size()) * kBodyFont.line());
  const double height = inner + 2 * pad;

  flow.ensure(height);
  const double top = flow.y();
  flow.box(kContentLeft, top, kContentWidth, height, tone_bg, 5);
  flow.box(kContentLeft, top, 5, height, tone);
  const double badge_top = top + (height - badge_height) / 2;
  flow.box(kContentLeft + pad + 2, badge_top, badge_width, badge_height, tone, 6);
  flow.text_line(label, badge_font, kWhite, kContentLeft + pad + 2 + badge_width / 2,
                 badge_top + (badge_height - badge_font.line()) / 2, Align::Centre);

  const std::pair<const char*, int> counts[] = {{"Nonconforming", c.nonconforming},
                                                {"Sample size n", c.plan.sample_size},
                                                {"Accept Ac", c.plan.accept_number},
                                                {"Reject Re", c.plan.reject_number}};
  double x = counts_left;
  for (std::size_t i = 0; i < std::size(counts); ++i) {
    flow.text_line(counts[i].first, kLabelFont, kMuted, x, top + pad);
    flow.text_line(std::to_string(counts[i].second), number_font, i == 0 ? tone : kInk, x,
                   top + pad + kLabelFont.line());
    x += counts_width / 4;
  }
  flow.lines(sample, kBodyFont, kBody, counts_left, top + pad + counts_height + 3);
  flow.advance(height + 6);

  for (const auto& reason : c.reasons) paragraph(flow, reason, kBodyFont, kInk, 14, "\u2022");
}

// A heading, a panel of fields, and a note under it; kept on one page.
void fields_section(Flow& flow, const std::string& title, const std::vector<Field>& fields,
                    int columns, const std::string& note = {}, Colour note_colour = kBody,
                    const Font& note_font = kBodyFont) {
  FieldsPanel panel(flow, fields, columns);
  const double note_height = note.empty() ? 0 : 4 + paragraph_height(flow, note, note_font);
  heading(flow, title, panel.height() + note_height);
  panel.draw();
  if (note.empty()) return;
  flow.advance(4);
  paragraph(flow, note, note_font, note_colour);
}

void rigs_section(Flow& flow, const Certificate& c) {
  heading(flow, "Rigs", Table::lead_height() + double(c.rigs.size()) * Table::row_height());
  if (c.rigs.empty()) return paragraph(flow, "No rig is recorded.", kBodyFont, kMuted);
  Table table(flow,
              {{"Rig serial", Align::Left, false, false, 2},
               {"Firmware", Align::Left, false, false, 1.5},
               {"Calibrated", Align::Left, false, false, 1.2},
               {"Calibration due", Align::Left, false, false, 1.2},
               {"Load-cell factor", Align::Right, false, true},
               {"Rollers run", Align::Right, false, true}},
              "Rigs, continued");
  std::vector<Row> rows;
  for (const auto& rig : c.rigs)
    rows.push_back({{{text::or_dash(rig.serial)},
                     {text::or_dash(rig.firmware_version)},
                     {text::or_dash(rig.calibration_date)},
                     {text::or_dash(rig.calibration_due)},
                     {text::factor_text(rig.load_cell_factor)},
                     {std::to_string(rig.rollers)}},
                    std::nullopt});
  table.draw(rows);
}

// The certificate proper ends with the signature, and the roller table is its annex on
// pages of its own: a certificate of n rollers has 1 + ceil(n / rows per page) pages.
void rollers_annex(Flow& flow, const Certificate& c) {
  flow.new_page();
  heading(
      flow,
      "Annex: sampled rollers of lot " + text::or_dash(c.lot) + " (" + text::annex_count(c) + ")",
      Table::lead_height());
  if (c.rollers.empty()) return paragraph(flow, "No roller was sampled.", kBodyFont, kMuted);
  const bool method_column = text::method_column(c);
  std::vector<Column> columns = {{"#", Align::Right, false, true},
                                 {"Serial", Align::Left, false, false, 1.6},
                                 {"Run", Align::Right, false, true},
                                 {"Verdict", Align::Left, false, true},
                                 {"Failed checks", Align::Left, false, false, 2.0},
                                 {"Mean depth (\u00b5m)", Align::Right, false, true},
                                 {"Rig", Align::Left, false, false, 1.2},
                                 {"Phantom lot", Align::Left, false, false, 1.1},
                                 {"Operator", Align::Left, false, false, 1.1},
                                 {"Finished (UTC)", Align::Left, false, true},
                                 {"Record SHA-256", Align::Left, true, true}};
  constexpr std::size_t kMethodAt = 6;  // after the mean depth it judged
  if (method_column)
    columns.insert(columns.begin() + kMethodAt, {"Method", Align::Right, false, true});
  Table table(flow, std::move(columns),
              "Annex: sampled rollers of lot " + text::or_dash(c.lot) + ", continued");
  std::vector<Row> rows;
  rows.reserve(c.rollers.size());
  for (std::size_t i = 0; i < c.rollers.size(); ++i) {
    const auto& r = c.rollers[i];
    const std::string tone = text::verdict_tone(r.verdict);
    Row row{{{std::to_string(i + 1), kMuted},
             {text::or_dash(r.serial)},
             {std::to_string(r.run_id)},
             {text::upper(text::or_dash(r.verdict)), tone_colour(tone), true},
             {text::checks_text(r.failed_checks), kFail},
             {text::mean_depth_text(r)},
             {text::or_dash(r.rig_serial)},
             {text::or_dash(r.phantom_lot)},
             {text::or_dash(r.operator_name)},
             {text::or_dash(text::utc_compact(r.finished_at))},
             {text::short_digest(r.record_sha256), kBody}},
            tone == "pass" ? std::nullopt : std::optional<Colour>(kFailBg)};
    if (method_column)
      row.cells.insert(row.cells.begin() + kMethodAt, {std::to_string(r.analysis_method)});
    rows.push_back(std::move(row));
  }
  table.draw(rows);
}

void draw_certificate(Flow& flow, const Certificate& c) {
  title_block(flow, c);
  decision_block(flow, c);
  fields_section(flow, "Lot and specification", text::lot_fields(c), 4);
  fields_section(flow, "Sampling plan", text::plan_fields(c.plan), 4, text::plan_note(c.plan));
  fields_section(flow, "Penetration-depth capability",
                 text::capability_fields(c.capability, c.sampled_analysis_methods), 5,
                 text::capability_line(c.capability), c.capability.meets ? kBody : kFail);
  rigs_section(flow, c);
  fields_section(flow, "Signature", text::signature_fields(c), 3, text::verify_line(c), kBody,
                 kSmallFont);
  rollers_annex(flow, c);
}

// ---------------------------------------------------------------- the PDF surface

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

void set_metadata(cairo_surface_t* surface, const Certificate& c) {
  const auto set = [&](cairo_pdf_metadata_t key, const std::string& value) {
    cairo().cairo_pdf_surface_set_metadata(surface, key, printable(value).c_str());
  };
  set(CAIRO_PDF_METADATA_TITLE, text::title(c) + " " + text::or_dash(c.certificate_id));
  set(CAIRO_PDF_METADATA_SUBJECT, "Lot " + text::or_dash(c.lot) + " of model " +
                                      text::or_dash(c.model) + ": " + text::decision_label(c));
  set(CAIRO_PDF_METADATA_CREATOR, "dermaroller bench " + text::or_dash(c.software_version));
  if (!c.signer.empty()) set(CAIRO_PDF_METADATA_AUTHOR, c.signer);
  set(CAIRO_PDF_METADATA_KEYWORDS,
      "certificate of conformance, lot " + text::or_dash(c.lot) + ", ISO 2859-1");
  // The signing time, not the rendering time, so the same certificate renders the same.
  if (text::utc_text(c.signed_at) != c.signed_at) set(CAIRO_PDF_METADATA_CREATE_DATE, c.signed_at);
}

// Lays the certificate out on a fresh PDF surface writing into `out`; returns the page
// count, or why cairo failed.
std::expected<int, std::string> render(const Certificate& c, int page_count, std::string* out) {
  cairo_surface_t* surface =
      cairo().cairo_pdf_surface_create_for_stream(append_bytes, out, kPageWidth, kPageHeight);
  set_metadata(surface, c);
  int pages = 0;
  cairo_status_t status;
  {
    Flow flow(surface, c, page_count);
    draw_certificate(flow, c);
    pages = flow.finish();
    status = flow.status();
  }
  cairo().cairo_surface_finish(surface);
  if (status == CAIRO_STATUS_SUCCESS) status = cairo().cairo_surface_status(surface);
  cairo().cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS)
    return std::unexpected(std::string("drawing the certificate PDF failed: ") +
                           cairo().cairo_status_to_string(status));
  return pages;
}

}  // namespace

std::expected<std::string, std::string> certificate_pdf(const Certificate& c) {
  if (const auto& loaded = load_cairo(); !loaded) return std::unexpected(loaded.error());
  // First pass only counts pages: the layout does not depend on the footer's text.
  std::string discarded;
  const auto pages = render(c, 0, &discarded);
  if (!pages) return std::unexpected(pages.error());
  std::string pdf;
  const auto drawn = render(c, *pages, &pdf);
  if (!drawn) return std::unexpected(drawn.error());
  if (*drawn != *pages)
    return std::unexpected("the certificate PDF laid out differently on its second pass (" +
                           std::to_string(*pages) + " then " + std::to_string(*drawn) + " pages)");
  return pdf;
}

}  // namespace derma::report

#if defined(__SANITIZE_ADDRESS__)
// cairo finds its fonts through fontconfig, which keeps a few one-time caches for the life
// of the process (about 2 kB, not growing with the number of certificates drawn).
// LeakSanitizer reports them at exit; this is its documented hook for built-in
// suppressions, compiled into sanitizer builds only.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libfontconfig.so\n";
}
#endif
