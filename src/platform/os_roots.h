// Where the OS publishes its state as files: the roots every platform reader takes, so
// tests point them at a fake tree in a scratch directory instead of the real /proc and /sys.
#pragma once

#include <string>

namespace locara {

// Plain data; copyable. The defaults are the real locations on Linux; a macOS backend
// reads its signals through system calls and ignores these.
struct OsRoots {
  std::string proc = "/proc";
  std::string sys = "/sys";
  std::string var_lib = "/var/lib";  // daemons' saved state (power-profiles-daemon)
};

}  // namespace locara
