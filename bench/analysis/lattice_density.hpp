// Channel density from where the channels lie, without the window's edge effect.
//
// Counting the channels in a scanned window and dividing by its area is biased: channels near
// the edge count when their centre falls inside, and on a small window one channel more or
// less is several percent (a 12 x 12 mm window of a DR-192 lattice holds about 22). A roller's
// needles form a lattice, so its density is one channel per lattice cell, and Pick's theorem
// gives the cell's area from the channels found: for a polygon whose corners are lattice
// points, area = cell x (interior points + boundary points / 2 - 1). Taking the convex hull
// of the channels' positions,
//     density = (n - B / 2 - 1) / hull area
// with n the channels and B those on the hull's boundary. It is exact on a perfect lattice
// whatever the window, and a needle missing inside the hull lowers it as it should.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace derma::analysis {

struct PlanePoint {
  double x_um = 0;
  double y_um = 0;
};

struct LatticeDensity {
  double per_cm2 = 0;
  std::size_t points = 0;           // n
  std::size_t boundary_points = 0;  // B
  double hull_area_mm2 = 0;
};

// Nothing when the points span no area (fewer than three, or all on a line) or the hull holds
// too few to say (n - B/2 - 1 <= 0). Points within on_edge_um of a hull edge count as on it
// (positions scatter by a few um; a lattice's next row in is hundreds of um further).
std::optional<LatticeDensity> lattice_density(std::vector<PlanePoint> points, double on_edge_um);

}  // namespace derma::analysis
