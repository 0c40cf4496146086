# Each stage's library makes its own folder's headers reachable, and only those: a target can
# include "ws/connection.hpp" only if it links cablecast_ws (directly, or through a library that
# links it publicly). Exporting src/ itself would make every stage's headers reachable from any
# target, and a dependency the linker never sees could creep in through a header.
#
# How: a per-library include root in the build tree, build/<preset>/include_roots/<target>/,
# holding one symbolic link named as the folder ("ws" -> src/ws, "rpc/grpc" -> src/rpc/grpc),
# so the spelling stays "<folder>/<file>.hpp", which says where the file lives. A folder that
# holds another library's folder (src/rpc holds rpc/grpc) is linked file by file without it.
function(cablecast_export_headers target)
  set(source ${CMAKE_CURRENT_SOURCE_DIR})
  file(RELATIVE_PATH folder ${PROJECT_SOURCE_DIR}/src ${source})
  set(root ${PROJECT_BINARY_DIR}/include_roots/${target})
  set(link ${root}/${folder})
  file(REMOVE_RECURSE ${root})
  get_filename_component(parent ${link} DIRECTORY)
  file(MAKE_DIRECTORY ${parent})

  file(GLOB entries LIST_DIRECTORIES true RELATIVE ${source} ${source}/*)
  set(nested_library FALSE)
  foreach(entry ${entries})
    if(IS_DIRECTORY ${source}/${entry} AND EXISTS ${source}/${entry}/CMakeLists.txt)
      set(nested_library TRUE)
    endif()
  endforeach()
  if(NOT nested_library)
    file(CREATE_LINK ${source} ${link} SYMBOLIC)
  else()
    file(MAKE_DIRECTORY ${link})
    foreach(entry ${entries})
      if(NOT (IS_DIRECTORY ${source}/${entry} AND EXISTS ${source}/${entry}/CMakeLists.txt))
        file(CREATE_LINK ${source}/${entry} ${link}/${entry} SYMBOLIC)
      endif()
    endforeach()
    # A header added later appears at the next configure.
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${source})
  endif()
  target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${root}>)
endfunction()
