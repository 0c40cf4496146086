# Unity batches for the unit-test and benchmark executables (CMake UNITY_BUILD, 8 files per
# batch). CI builds two trees from scratch on 2 cores (release with -Werror, then ASan+UBSan);
# most of a small test file's compile time goes into parsing GoogleTest, Boost.Asio/JSON and
# spdlog again, and a batch parses them once. Measured from scratch on 2 cores: release build
# 427 -> 312 s of CPU, asan build 524 -> 464 s.
#
# The libraries under src/ stay one translation unit per file: they are what ships, and a batch
# would let one file's anonymous-namespace helpers and includes leak into the next one's.
# Precompiled headers were measured too and made both builds slower (GCC 12 loads a ~170 MB PCH
# per file), so there are none.
option(CABLECAST_UNITY_TESTS "Compile the unit tests and benchmarks in unity batches" ON)

function(cablecast_enable_unity_builds)
  if(NOT CABLECAST_UNITY_TESTS)
    return()
  endif()
  set(targets)
  if(CABLECAST_BUILD_TESTS)
    get_property(test_targets DIRECTORY ${PROJECT_SOURCE_DIR}/tests PROPERTY BUILDSYSTEM_TARGETS)
    list(FILTER test_targets INCLUDE REGEX "^unit_")
    list(APPEND targets ${test_targets})
  endif()
  foreach(target cablecast_loadgen cablecast-micro)
    if(TARGET ${target})
      list(APPEND targets ${target})
    endif()
  endforeach()
  if(targets)
    set_target_properties(${targets} PROPERTIES UNITY_BUILD ON)
  endif()
  # Files of one batch share a translation unit, so two anonymous-namespace helpers of the same
  # name collide: identifier_test.cpp and command_test.cpp both define nested_arrays(). This
  # file compiles on its own until that helper lives in tests/support.
  if(CABLECAST_BUILD_TESTS)
    set_source_files_properties(${PROJECT_SOURCE_DIR}/tests/unit/protocol/identifier_test.cpp
      DIRECTORY ${PROJECT_SOURCE_DIR}/tests PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
  endif()
endfunction()
