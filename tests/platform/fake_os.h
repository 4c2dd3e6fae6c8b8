// OsRoots pointing into a ScratchDir: fake /proc, /sys and /var/lib trees for the
// platform readers' tests.
#pragma once

#include "platform/os_roots.h"
#include "platform/scratch_dir.h"

namespace locara::testing {

// <dir>/proc, <dir>/sys, <dir>/var/lib; write files with dir.write_text("proc/meminfo", ...).
inline OsRoots fake_roots(const ScratchDir& dir) {
  return OsRoots{dir.file("proc"), dir.file("sys"), dir.file("var/lib")};
}

}  // namespace locara::testing
