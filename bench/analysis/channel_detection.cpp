#include "bench/analysis/channel_detection.hpp"

#include <algorithm>
#include <cmath>

#include "bench/analysis/channel_measurement.hpp"
#include "bench/analysis/text.hpp"

namespace derma::analysis {

namespace {

// ---------------------------------------------------------------------------------------
// Labelling: runs of below-threshold pixels, joined across rows with union-find. A run
// per row per channel is far less data than a label per pixel, and no recursion means
// no stack overflow on a large region.

struct Run {
  int row;
  int c0;  // inclusive
  int c1;  // inclusive
};

int find_root(std::vector<int>& parent, int i) {
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];  // path halving keeps the trees flat
    i = parent[i];
  }
  return i;
}

void unite(std::vector<int>& parent, int a, int b) {
  a = find_root(parent, a);
  b = find_root(parent, b);
  if (a == b) return;
  // The older run becomes the root, so components come out in raster order.
  if (a < b) {
    parent[b] = a;
  } else {
    parent[a] = b;
  }
}

struct Labelling {
  std::vector<Run> runs;
  std::vector<int> parent;
  std::size_t valid_pixels = 0;
};

// Pixels of a block of the row that lie below the limit, and unreadable (NaN) ones: a NaN
// compares false, so it is never "below".
constexpr int kBlock = FormSurface::RowWalker::kBlock;
struct BlockCount {
  int below = 0;
  int unreadable = 0;
};

BlockCount count_block(const float* row, const float* terms, float limit, int width) {
  BlockCount n;
  for (int c = 0; c < width; ++c) {
    n.below += row[c] - terms[c] < limit;
    n.unreadable += row[c] != row[c];
  }
  return n;
}

// Whether every pixel of a full block is readable and at or above `clear`, a height above
// which no pixel of the block is below the limit (RowWalker::clear_height): the map's one
// pass, and nearly every block of it. One compare per pixel and no form: with a fixed trip
// count and an int counter the compiler turns this into SIMD compares at -O2 (!(x >= clear)
// is true for NaN too).
bool block_clear(const float* row, float clear) {
  int not_clear = 0;
  for (int c = 0; c < kBlock; ++c) not_clear += !(row[c] >= clear);
  return not_clear == 0;
}

Labelling label_runs(const HeightMap& map, const FormSurface& form, double threshold_um) {
  Labelling out;
  out.runs.reserve(4096);
  // The form along each row, kept up to date by one add per pixel where it is needed: per
  // pixel the test is then one subtract and one compare.
  FormSurface::RowWalker walker(form, map.cols);
  const auto limit = static_cast<float>(-threshold_um);

  std::size_t prev_begin = 0, prev_end = 0;
  for (int r = 0; r < map.rows; ++r) {
    const float* row = map.height_um.data() + static_cast<std::size_t>(r) * map.cols;
    walker.to_row(r);
    const std::size_t cur_begin = out.runs.size();
    int start = -1;
    int unreadable = 0;
    for (int b = 0; b * kBlock < map.cols; ++b) {
      const int c0 = b * kBlock, width = std::min(kBlock, map.cols - c0);
      // Most blocks hold no channel and no unreadable point: cleared by one compare a pixel.
      if (width == kBlock && block_clear(row + c0, walker.clear_height(b, limit))) {
        if (start >= 0) {
          out.runs.push_back({r, start, c0 - 1});
          start = -1;
        }
        continue;
      }
      const float* terms = walker.block(b);
      const BlockCount n = count_block(row + c0, terms, limit, width);
      unreadable += n.unreadable;
      if (n.below == 0 && start < 0) continue;
      for (int c = 0; c < width; ++c) {
        const bool is_below = row[c0 + c] - terms[c] < limit;
        if (is_below && start < 0) start = c0 + c;
        if (!is_below && start >= 0) {
          out.runs.push_back({r, start, c0 + c - 1});
          start = -1;
        }
      }
    }
    if (start >= 0) out.runs.push_back({r, start, map.cols - 1});
    out.valid_pixels += static_cast<std::size_t>(map.cols - unreadable);
    const std::size_t cur_end = out.runs.size();
    for (std::size_t k = cur_begin; k < cur_end; ++k) out.parent.push_back(static_cast<int>(k));

    // Join each run with the previous row's runs it touches (8-connectivity).
    std::size_t j = prev_begin;
    for (std::size_t k = cur_begin; k < cur_end; ++k) {
      const Run& cur = out.runs[k];
      while (j < prev_end && out.runs[j].c1 < cur.c0 - 1) ++j;
      for (std::size_t p = j; p < prev_end && out.runs[p].c0 <= cur.c1 + 1; ++p)
        unite(out.parent, static_cast<int>(k), static_cast<int>(p));
    }
    prev_begin = cur_begin;
    prev_end = cur_end;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Regions: the labelled runs gathered per component, then the pieces of one channel joined.

std::vector<ChannelRegion> gather_regions(Labelling& labels) {
  std::vector<int> region_of_root(labels.runs.size(), -1);
  std::vector<ChannelRegion> regions;
  for (std::size_t k = 0; k < labels.runs.size(); ++k) {
    const int root = find_root(labels.parent, static_cast<int>(k));
    const Run& run = labels.runs[k];
    if (region_of_root[root] < 0) {
      region_of_root[root] = static_cast<int>(regions.size());
      regions.push_back(ChannelRegion{{}, 0, run.row, run.row, run.c0, run.c1});
    }
    ChannelRegion& region = regions[region_of_root[root]];
    region.runs.push_back({run.row, run.c0, run.c1});
    region.pixels += run.c1 - run.c0 + 1;
    region.r_min = std::min(region.r_min, run.row);
    region.r_max = std::max(region.r_max, run.row);
    region.c_min = std::min(region.c_min, run.c0);
    region.c_max = std::max(region.c_max, run.c1);
  }
  return regions;
}

// A steep wall the scanner could not read splits a channel's below-threshold pixels into
// pieces with unreadable points between them; pieces whose boxes lie within gap_px of each
// other are one channel.
std::vector<ChannelRegion> join_pieces(std::vector<ChannelRegion> regions, int gap_px) {
  std::vector<int> parent(regions.size());
  for (std::size_t i = 0; i < regions.size(); ++i) parent[i] = static_cast<int>(i);
  // Regions come in raster order of their first row: the inner loop stops at the first one
  // starting below the gap.
  for (std::size_t i = 0; i < regions.size(); ++i)
    for (std::size_t j = i + 1; j < regions.size(); ++j) {
      if (regions[j].r_min > regions[i].r_max + gap_px + 1) break;
      if (regions[j].c_min > regions[i].c_max + gap_px + 1 ||
          regions[i].c_min > regions[j].c_max + gap_px + 1)
        continue;
      unite(parent, static_cast<int>(i), static_cast<int>(j));
    }
  std::vector<ChannelRegion> joined;
  std::vector<int> joined_of_root(regions.size(), -1);
  for (std::size_t i = 0; i < regions.size(); ++i) {
    const int root = find_root(parent, static_cast<int>(i));
    if (joined_of_root[root] < 0) {
      joined_of_root[root] = static_cast<int>(joined.size());
      joined.push_back(std::move(regions[i]));
      continue;
    }
    ChannelRegion& into = joined[joined_of_root[root]];
    const ChannelRegion& piece = regions[i];
    into.runs.insert(into.runs.end(), piece.runs.begin(), piece.runs.end());
    into.pixels += piece.pixels;
    into.r_min = std::min(into.r_min, piece.r_min);
    into.r_max = std::max(into.r_max, piece.r_max);
    into.c_min = std::min(into.c_min, piece.c_min);
    into.c_max = std::max(into.c_max, piece.c_max);
  }
  return joined;
}

// Asks the memory system for the map around a region before it is measured: the window and
// the reference's ring reach some 60 rows of the map, a fresh cache line each few pixels,
// and without this their misses are waited for one row after another (half of the ring's
// gathering time). Issued while the previous channel is measured; a hint, not a read.
// noipa: GCC finds the function free of side effects (a prefetch is none) and would drop
// the call.
[[gnu::noipa]] void prefetch_neighbourhood(const HeightMap& map, const ChannelRegion& region) {
  // The ring's outer radius (channel_measurement.cpp: 2.5 radii + 2 px, plus max(6 px, one
  // radius)), with some to spare.
  const double radius =
      std::max(region.r_max - region.r_min, region.c_max - region.c_min) / 2.0 + 0.5;
  const int reach = static_cast<int>(3.5 * radius) + 10;
  const int r0 = std::max(0, region.r_min - reach),
            r1 = std::min(map.rows - 1, region.r_max + reach);
  const int c0 = std::max(0, region.c_min - reach),
            c1 = std::min(map.cols - 1, region.c_max + reach);
  constexpr int kFloatsPerLine = 16;
  for (int r = r0; r <= r1; ++r) {
    const float* row = map.height_um.data() + static_cast<std::size_t>(r) * map.cols;
    for (int c = c0; c < c1 + kFloatsPerLine; c += kFloatsPerLine)
      __builtin_prefetch(row + std::min(c, c1));
  }
}

}  // namespace

std::optional<std::string> map_problem(const HeightMap& map) {
  if (map.rows <= 0 || map.cols <= 0)
    return text("height map has %d rows x %d columns: nothing to analyse", map.rows, map.cols);
  const auto expected = static_cast<std::size_t>(map.rows) * static_cast<std::size_t>(map.cols);
  if (map.height_um.size() != expected)
    return text("height map holds %zu pixels but declares %d rows x %d columns = %zu",
                map.height_um.size(), map.rows, map.cols, expected);
  if (!(map.pitch_um > 0) || !std::isfinite(map.pitch_um))
    return text("height map pitch %g um is not a positive length", map.pitch_um);
  return std::nullopt;
}

std::expected<ChannelDetection, std::string> detect_channels(const HeightMap& map,
                                                             const DetectionOptions& options) {
  if (auto problem = map_problem(map)) return std::unexpected(*problem);
  auto form = fit_form(map, options.form);
  if (!form) return std::unexpected(form.error());

  ChannelDetection out;
  out.form = std::move(form->form);
  out.residual_sigma_um = form->residual_sigma_um;
  out.threshold_um =
      std::max(options.threshold_sigmas * out.residual_sigma_um, options.min_threshold_um);

  Labelling labels = label_runs(map, out.form, out.threshold_um);
  out.valid_pixels = labels.valid_pixels;
  std::vector<ChannelRegion> regions =
      join_pieces(gather_regions(labels),
                  std::max(2, static_cast<int>(std::lround(options.join_gap_um / map.pitch_um))));

  const MeasurementContext context{map, out.form, out.threshold_um};
  ChannelMeasurer measurer(context);
  out.channels.reserve(regions.size());
  for (std::size_t i = 0; i < regions.size(); ++i) {
    if (i + 1 < regions.size()) prefetch_neighbourhood(map, regions[i + 1]);
    if (regions[i].pixels < options.min_area_px) continue;
    if (auto channel = measurer.measure(regions[i])) out.channels.push_back(*channel);
  }
  return out;
}

}  // namespace derma::analysis
