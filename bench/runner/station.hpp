// Where and when a run happens, as every report records it.
#pragma once

#include <string>

namespace derma::runner {

std::string utc_now_iso8601();  // e.g. 2026-11-26T13:52:28Z
std::string host_name();        // this station's host name

}  // namespace derma::runner
