// The CPU's marketing name, as benchmarks report it (llama-bench's cpu_info).
#pragma once

#include <string>

namespace locara {

// /proc/cpuinfo's first "model name" (x86, most Arm kernels); else the machine's
// architecture from uname ("aarch64"). Thread-safe.
std::string cpu_model_name(const std::string& proc_root = "/proc");

}  // namespace locara
