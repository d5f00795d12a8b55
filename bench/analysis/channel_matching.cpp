#include "bench/analysis/channel_matching.hpp"

#include <algorithm>
#include <numeric>

namespace derma::analysis {

namespace {

double distance2(double ax, double ay, double bx, double by) {
  return (ax - bx) * (ax - bx) + (ay - by) * (ay - by);
}

}  // namespace

LatticeMatch match_to_lattice(std::vector<Channel>& channels,
                              const std::vector<PredictedChannel>& predicted, double tolerance_um,
                              double coincide_um) {
  LatticeMatch match;
  match.channel_of_prediction.assign(predicted.size(), std::nullopt);
  match.prediction_of_channel.assign(channels.size(), std::nullopt);

  // Channels sorted by x, so each prediction only looks at a slice of them.
  std::vector<std::size_t> by_x(channels.size());
  std::iota(by_x.begin(), by_x.end(), 0);
  std::sort(by_x.begin(), by_x.end(),
            [&](std::size_t a, std::size_t b) { return channels[a].x_um < channels[b].x_um; });

  struct Pair {
    double d2;
    std::size_t prediction, channel;
  };
  std::vector<Pair> pairs;
  const double tol2 = tolerance_um * tolerance_um;
  for (std::size_t p = 0; p < predicted.size(); ++p) {
    const auto first =
        std::lower_bound(by_x.begin(), by_x.end(), predicted[p].x_um - tolerance_um,
                         [&](std::size_t c, double x) { return channels[c].x_um < x; });
    for (auto it = first;
         it != by_x.end() && channels[*it].x_um <= predicted[p].x_um + tolerance_um; ++it) {
      const double d2 =
          distance2(channels[*it].x_um, channels[*it].y_um, predicted[p].x_um, predicted[p].y_um);
      if (d2 <= tol2) pairs.push_back({d2, p, *it});
    }
  }
  // Globally nearest first: a channel between two predictions goes to the closer one.
  std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.d2 < b.d2; });
  for (const Pair& pair : pairs) {
    if (match.channel_of_prediction[pair.prediction] || match.prediction_of_channel[pair.channel])
      continue;
    match.channel_of_prediction[pair.prediction] = pair.channel;
    match.prediction_of_channel[pair.channel] = pair.prediction;
  }

  // Re-punctures: a later pass retracing the same holes.
  const double co2 = coincide_um * coincide_um;
  for (std::size_t p = 0; p < predicted.size(); ++p) {
    if (match.channel_of_prediction[p]) continue;
    for (std::size_t q = 0; q < predicted.size(); ++q) {
      const auto channel = match.channel_of_prediction[q];
      if (q == p || !channel) continue;
      if (distance2(predicted[p].x_um, predicted[p].y_um, predicted[q].x_um, predicted[q].y_um) >
          co2)
        continue;
      const Channel& c = channels[*channel];
      if (distance2(c.x_um, c.y_um, predicted[p].x_um, predicted[p].y_um) <= tol2) {
        match.channel_of_prediction[p] = channel;
        break;
      }
    }
  }

  for (std::size_t c = 0; c < channels.size(); ++c) {
    if (const auto p = match.prediction_of_channel[c]) {
      channels[c].disc = predicted[*p].disc;
      channels[c].index = predicted[*p].index;
    } else {
      channels[c].disc.reset();
      channels[c].index.reset();
    }
  }
  return match;
}

}  // namespace derma::analysis
