# Toolchain for cross-compiling Locara to 64-bit Arm Linux (arm64) on a Debian x86-64 host
# with g++-aarch64-linux-gnu; ctest and gtest discovery run the binaries under qemu-aarch64.
#   cmake -S . -B build-arm64 -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake -DLOCARA_BUILD_BENCH=OFF
# (scripts/test-arm64 does this and runs the suites.) The libraries Locara uses are taken
# header-only from the host (see cmake/cross/), except PCRE2, linked statically from
# Debian's multiarch libpcre2-dev:arm64 (scripts/install-deps installs it).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(LOCARA_CROSS_SYSROOT /usr/aarch64-linux-gnu)  # libc/libstdc++ of the cross toolchain
set(LOCARA_CROSS_MULTIARCH_LIBDIR /usr/lib/aarch64-linux-gnu)  # Debian's :arm64 packages
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)  # GoogleTest enables C
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Libraries come from the cross sysroot only; headers and CMake packages may also be the
# host's arch-independent ones (nlohmann_json, CLI11 live in /usr/share/cmake).
set(CMAKE_FIND_ROOT_PATH ${LOCARA_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# Find modules that stand in for the host's compiled packages (fmt, toml++, GoogleTest).
list(PREPEND CMAKE_MODULE_PATH ${CMAKE_CURRENT_LIST_DIR}/../cross)

# qemu's user-mode emulator runs the test binaries; -L points its loader at the sysroot.
# Its default CPU model ("max") has dotprod and fp16; LOCARA_ISA=neon caps the kernels.
# LD_LIBRARY_PATH keeps libc with the loader it was built for: the host's ld.so.cache also
# lists the multiarch libc6:arm64 (libpcre2-dev:arm64 pulls it in), and when its version
# differs from the cross sysroot's loader, the mix corrupts glibc's internal state (the
# first pthread_create spins forever walking a broken stack-cache list).
find_program(LOCARA_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
if(LOCARA_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${LOCARA_QEMU_AARCH64} -L ${LOCARA_CROSS_SYSROOT} -E
                                    LD_LIBRARY_PATH=${LOCARA_CROSS_SYSROOT}/lib)
endif()
