#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bench/app/commands.hpp"
#include "bench/report/run_report.hpp"
#include "drivers/transport/port_enumeration.hpp"

namespace derma::app {

int list_ports_command(const PortsCommand& cmd) {
  auto ports = transport::list_serial_ports();
  if (!ports) {
    std::cerr << "bench ports: " << ports.error().message << "\n";
    return report::kExitRigError;
  }
  if (cmd.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : *ports)
      out.push_back({{"name", p.name},
                     {"description", p.description},
                     {"kind", transport::to_string(p.kind)},
                     {"usb_id", transport::usb_id(p)},
                     {"manufacturer", p.manufacturer},
                     {"product", p.product},
                     {"serial_number", p.serial_number}});
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  if (ports->empty()) {
    std::cout
        << "no serial ports found (virtual rigs on a pty are not listed: use their link path)\n";
    return 0;
  }
  std::printf("%-20s %-9s %-10s %-20s %s\n", "port", "kind", "usb id", "serial", "description");
  for (const auto& p : *ports)
    std::printf("%-20s %-9s %-10s %-20s %s\n", p.name.c_str(), transport::to_string(p.kind),
                transport::usb_id(p).c_str(), p.serial_number.c_str(), p.description.c_str());
  return 0;
}

}  // namespace derma::app
