#pragma once
// What `cablecast --version` and `cablecast version` print: fixed when CMake configures the
// build (build_info.cpp.in), so the binary says which source it was built from.
#include <string>
#include <string_view>

namespace cablecast::app {

std::string_view version();     // the CMake project version, e.g. "0.1.0"
std::string_view git_commit();  // short commit hash, "-dirty" if the tree had changes; "unknown"
std::string_view build_type();  // CMAKE_BUILD_TYPE, e.g. "Release"

// "cablecast 0.1.0 (commit 56d2d40a1b2c, Release)"
std::string version_line();

}  // namespace cablecast::app
