#include "platform/cpu_name.h"

#include <sys/utsname.h>

#include <fstream>

namespace locara {

std::string cpu_model_name(const std::string& proc_root) {
  std::ifstream cpuinfo(proc_root + "/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const size_t start = line.find_first_not_of(" \t", colon + 1);
    if (start != std::string::npos) return line.substr(start);
  }
  struct utsname name {};
  if (::uname(&name) == 0) return name.machine;
  return "unknown";
}

}  // namespace locara
