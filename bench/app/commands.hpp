// The subcommands of `bench`, each a function from parsed options to an exit code.
#pragma once

#include <string>

namespace derma::app {

struct RunCommand {
  std::string suite_file;
  std::string rig;
  std::string roller_file;
  std::string roller_serial;
  std::string out_dir;
  std::string spec_override;
  std::string operator_name;
  std::string faults;
  bool realtime = false;
  bool quiet = false;
};
int run_suite_command(const RunCommand&);

struct PortsCommand {
  bool json = false;
};
int list_ports_command(const PortsCommand&);

}  // namespace derma::app
