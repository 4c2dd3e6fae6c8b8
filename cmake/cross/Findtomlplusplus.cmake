# Cross builds (cmake/toolchains/): toml++ in its default header-only mode from the host's
# headers (libtomlplusplus-dev), instead of the host's x86-64 libtomlplusplus.so.
find_path(TOMLPLUSPLUS_INCLUDE_DIR toml++/toml.h)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(tomlplusplus REQUIRED_VARS TOMLPLUSPLUS_INCLUDE_DIR)
if(tomlplusplus_FOUND AND NOT TARGET tomlplusplus::tomlplusplus)
  add_library(tomlplusplus::tomlplusplus INTERFACE IMPORTED)
  set_target_properties(tomlplusplus::tomlplusplus PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${TOMLPLUSPLUS_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS TOML_HEADER_ONLY=1)
endif()
