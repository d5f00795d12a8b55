// Which process runs a run, so that a process starting up marks `interrupted` only the runs
// whose process is really gone (internal to bench/store). With several daemons on one store
// (PostgreSQL), one daemon's restart must not end another's runs, nor a `bench run --db`
// that is still rolling on the same host.
#pragma once

#include <optional>
#include <string>

namespace derma::store {

// "HOST/PID/START": the host name, the process id and the process's start time (clock ticks
// after boot, /proc/PID/stat), so a pid reused by a later process is not taken for it.
std::string this_process_identity();

// True when the process a run records is known to be gone: it is this very process (a
// process that asks runs none yet), or on this host with no live process of that pid and
// start time, or unknown (recorded before schema version 4). A process on another host is
// never judged from here (the fleet's leases will decide; docs/storage.md).
bool process_is_gone(const std::string& identity);

}  // namespace derma::store
