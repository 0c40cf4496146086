# Unity batches for the unit-test and benchmark executables (CMake UNITY_BUILD, 8 files per
# batch). CI builds two trees from scratch on 2 cores (release with -Werror, then ASan+UBSan);
# most of a small test file's compile time goes into parsing GoogleTest, Boost.Asio/JSON and
# spdlog again, and a batch parses them once. Measured from scratch on 2 cores: release build
# 427 -> 312 s of CPU, asan build 524 -> 464 s.
#
# The libraries under src/ stay one translation unit per file in the release tree: they are what
# ships, and a batch would let one file's anonymous-namespace helpers and includes leak into the
# next one's (CABLECAST_UNITY_LIBRARIES below batches them in the test-only trees).
# Precompiled headers were measured too and made both builds slower (GCC 12 loads a ~170 MB PCH
# per file), so there are none.
option(CABLECAST_UNITY_TESTS "Compile the unit tests and benchmarks in unity batches" ON)
# The sanitizer and fuzzing trees (scripts/sanitize.sh, scripts/fuzz.sh) are built only to run the
# tests, in CI, after the release tree has compiled every library file on its own with -Werror
# (which catches a missing include or a helper that only compiles next to another file). There
# the libraries are batched too, which cuts their compile time (CI runs on 2 cores against a
# 30-minute budget). Off for everything that ships.
option(CABLECAST_UNITY_LIBRARIES "Also compile the src/ libraries in unity batches (test-only trees)"
       OFF)

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
  if(CABLECAST_UNITY_LIBRARIES)
    get_property(subdirectories DIRECTORY ${PROJECT_SOURCE_DIR}/src PROPERTY SUBDIRECTORIES)
    foreach(directory ${PROJECT_SOURCE_DIR}/src ${subdirectories})
      get_property(library_targets DIRECTORY ${directory} PROPERTY BUILDSYSTEM_TARGETS)
      list(FILTER library_targets INCLUDE REGEX "^cablecast_")
      list(APPEND targets ${library_targets})
      get_property(nested DIRECTORY ${directory} PROPERTY SUBDIRECTORIES)
      foreach(inner ${nested})
        get_property(inner_targets DIRECTORY ${inner} PROPERTY BUILDSYSTEM_TARGETS)
        list(FILTER inner_targets INCLUDE REGEX "^cablecast_")
        list(APPEND targets ${inner_targets})
      endforeach()
    endforeach()
  endif()
  if(targets)
    set_target_properties(${targets} PROPERTIES UNITY_BUILD ON)
  endif()
  # Library files whose anonymous-namespace helpers share a name with a neighbour's (or whose
  # classes hold such types): compiled on their own in those trees too.
  if(CABLECAST_UNITY_LIBRARIES)
    foreach(file protocol/encode.cpp ws/frame_encoder.cpp broker/redis_history.cpp
                 broker/redisx_consumer.cpp rpc/http_backend.cpp)
      get_filename_component(folder ${file} DIRECTORY)
      set_source_files_properties(${PROJECT_SOURCE_DIR}/src/${file}
        DIRECTORY ${PROJECT_SOURCE_DIR}/src/${folder} PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
    endforeach()
    set_source_files_properties(${PROJECT_SOURCE_DIR}/src/rpc/grpc/grpc_backend.cpp
      DIRECTORY ${PROJECT_SOURCE_DIR}/src/rpc/grpc PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
  endif()
  # Files of one batch share a translation unit, so two anonymous-namespace helpers of the same
  # name collide: identifier_test.cpp and command_test.cpp both define nested_arrays(). This
  # file compiles on its own until that helper lives in tests/support.
  if(CABLECAST_BUILD_TESTS)
    set_source_files_properties(${PROJECT_SOURCE_DIR}/tests/unit/protocol/identifier_test.cpp
      DIRECTORY ${PROJECT_SOURCE_DIR}/tests PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
  endif()
endfunction()
