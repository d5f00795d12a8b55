// How long to wait before the next attempt to reach a rig that is gone: exponential backoff,
// so an unplugged rig costs a few opens a minute rather than a busy loop, and a rig that
// comes back is found within a few seconds.
#pragma once

#include <algorithm>
#include <chrono>

namespace derma::api {

struct ReconnectBackoff {
  std::chrono::milliseconds first_delay{500};
  std::chrono::milliseconds max_delay{10'000};

  // The wait after `failed_attempts` consecutive failures: 0 before the first attempt (a lost
  // link is tried again at once), then first_delay, doubling, capped at max_delay.
  std::chrono::milliseconds delay_after(int failed_attempts) const {
    if (failed_attempts <= 0) return std::chrono::milliseconds(0);
    std::chrono::milliseconds delay = first_delay;
    for (int i = 1; i < failed_attempts && delay < max_delay; ++i) delay *= 2;
    return std::min(delay, max_delay);
  }
};

}  // namespace derma::api
