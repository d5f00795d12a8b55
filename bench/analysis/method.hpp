// Which analysis method judged a run. A capture can be analysed again years later by a newer
// build (`bench analyze`); when the method has changed since, the figures may differ and the
// report must say so, so every report, capture and certificate names the method's version.
//
// Versions (the change log of the measurement's definition, docs/measurement.md):
//   1  until 2026-12: a global plane; each pit's depth from a quadratic fitted to ln(depth)
//      over the 5 x 5 pixels around its lowest one (exact for a Gaussian pit only); any
//      unreadable pixel next to a channel made it partial; scan-only density counted the
//      channels in the window. Captures recorded before the version was written are version 1.
//   2  the metrology of docs/measurement.md: a robust form on 0.5 mm cells for finding
//      channels; per channel a Tukey-biweight quadratic reference on a ring outside the rim,
//      a floor bounded by the deepest confirmed point, flat floors by a plane, unreadable
//      floors reported as unmeasured; scan-only density from the lattice (Pick's theorem).
#pragma once

namespace derma::analysis {

inline constexpr int kAnalysisMethodVersion = 2;
// Captures and reports written before the version was recorded were judged by version 1.
inline constexpr int kUnversionedAnalysisMethod = 1;

// One line for people: what the method of that version does ("unknown version N" otherwise).
const char* analysis_method_summary(int version);

}  // namespace derma::analysis
