#include "bench/analysis/lattice_density.hpp"

#include <algorithm>
#include <cmath>

namespace derma::analysis {

namespace {

double cross(const PlanePoint& o, const PlanePoint& a, const PlanePoint& b) {
  return (a.x_um - o.x_um) * (b.y_um - o.y_um) - (a.y_um - o.y_um) * (b.x_um - o.x_um);
}

// Andrew's monotone chain: the hull's corners, counter-clockwise, collinear points left out.
std::vector<PlanePoint> convex_hull(std::vector<PlanePoint> p) {
  std::sort(p.begin(), p.end(), [](const PlanePoint& a, const PlanePoint& b) {
    return a.x_um < b.x_um || (a.x_um == b.x_um && a.y_um < b.y_um);
  });
  if (p.size() < 3) return p;
  std::vector<PlanePoint> hull(2 * p.size());
  std::size_t k = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    while (k >= 2 && cross(hull[k - 2], hull[k - 1], p[i]) <= 0) --k;
    hull[k++] = p[i];
  }
  for (std::size_t i = p.size() - 1, t = k + 1; i > 0; --i) {
    while (k >= t && cross(hull[k - 2], hull[k - 1], p[i - 1]) <= 0) --k;
    hull[k++] = p[i - 1];
  }
  hull.resize(k - 1);
  return hull;
}

double distance_to_segment(const PlanePoint& p, const PlanePoint& a, const PlanePoint& b) {
  const double dx = b.x_um - a.x_um, dy = b.y_um - a.y_um;
  const double len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((p.x_um - a.x_um) * dx + (p.y_um - a.y_um) * dy) / len2 : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  return std::hypot(p.x_um - (a.x_um + t * dx), p.y_um - (a.y_um + t * dy));
}

}  // namespace

std::optional<LatticeDensity> lattice_density(std::vector<PlanePoint> points, double on_edge_um) {
  if (points.size() < 3) return std::nullopt;
  const std::vector<PlanePoint> hull = convex_hull(points);
  if (hull.size() < 3) return std::nullopt;
  double twice_area = 0;
  for (std::size_t i = 0; i < hull.size(); ++i) {
    const PlanePoint& a = hull[i];
    const PlanePoint& b = hull[(i + 1) % hull.size()];
    twice_area += a.x_um * b.y_um - b.x_um * a.y_um;
  }
  const double area_um2 = std::abs(twice_area) / 2.0;
  std::size_t boundary = 0;
  for (const PlanePoint& p : points)
    for (std::size_t i = 0; i < hull.size(); ++i)
      if (distance_to_segment(p, hull[i], hull[(i + 1) % hull.size()]) <= on_edge_um) {
        ++boundary;
        break;
      }
  const double cells = double(points.size()) - double(boundary) / 2.0 - 1.0;
  if (!(area_um2 > 0) || cells <= 0) return std::nullopt;
  LatticeDensity out;
  out.points = points.size();
  out.boundary_points = boundary;
  out.hull_area_mm2 = area_um2 / 1e6;
  out.per_cm2 = cells / (area_um2 / 1e8);
  return out;
}

}  // namespace derma::analysis
