# `cmake --install build/release --prefix P` (`make install PREFIX=P`): the `cablecast` binary,
# the public headers, the static libraries with a CMake package so that a C++ program writes
#   find_package(Cablecast REQUIRED)
#   target_link_libraries(app PRIVATE cablecast::server)
# and the systemd unit with an example config under share/cablecast (docs/install.md).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Every library cablecast_server links, publicly or not: static libraries carry their private
# dependencies to the final link, so all of them ship. The export names them cablecast::<name>.
# Not cablecast_app: the program's settings, commands and demo are in the installed binary only.
set(cablecast_installed_libraries
  cablecast_core cablecast_auth cablecast_ws cablecast_protocol cablecast_pubsub
  cablecast_broadcast cablecast_broker cablecast_hub cablecast_channel cablecast_streams
  cablecast_metrics
  cablecast_rpc cablecast_rpc_grpc cablecast_rpc_grpc_proto cablecast_session cablecast_server)

# The one target a user links: the embeddable server and, through it, every stage and the
# third-party libraries. In-tree code may use the same name (cablecast::server).
add_library(cablecast_library INTERFACE)
set_target_properties(cablecast_library PROPERTIES EXPORT_NAME server)
target_link_libraries(cablecast_library INTERFACE cablecast_server)
# The libraries were compiled with these (CMakeLists.txt); a user's Asio code must agree (ODR).
target_compile_definitions(cablecast_library INTERFACE BOOST_ASIO_NO_DEPRECATED
                           BOOST_ASIO_DISABLE_BOOST_COROUTINE)
target_compile_features(cablecast_library INTERFACE cxx_std_20)
# Libraries built with sanitizers (make sanitize installs them in its tests) need the runtime at
# the final link.
if(CABLECAST_SANITIZE)
  target_link_options(cablecast_library INTERFACE -fsanitize=${CABLECAST_SANITIZE})
endif()
add_library(cablecast::server ALIAS cablecast_library)

set(cablecast_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/Cablecast)

install(TARGETS cablecast RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS cablecast_library ${cablecast_installed_libraries} EXPORT CablecastTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
# The public headers only: src/ stays private (cablecast_core's INSTALL_INTERFACE says
# "include", which is CMAKE_INSTALL_INCLUDEDIR's default).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/cablecast DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT CablecastTargets NAMESPACE cablecast:: DESTINATION ${cablecast_cmake_dir})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/CablecastConfig.cmake.in
  ${PROJECT_BINARY_DIR}/CablecastConfig.cmake INSTALL_DESTINATION ${cablecast_cmake_dir})
# 0.x: a minor version may change the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/CablecastConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/CablecastConfig.cmake
              ${PROJECT_BINARY_DIR}/CablecastConfigVersion.cmake
        DESTINATION ${cablecast_cmake_dir})

# Not installed into /etc or /lib/systemd: a prefix install must not touch the system. The
# operator copies them (docs/install.md).
install(FILES ${PROJECT_SOURCE_DIR}/packaging/cablecast.service
              ${PROJECT_SOURCE_DIR}/packaging/cablecast.toml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/cablecast)
