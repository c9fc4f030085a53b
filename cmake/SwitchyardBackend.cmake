# switchyard_backend_plugin(NAME SOURCES ... [DEPS ...]): a backend plugin, the shared library
# `libswitchyard_backend_NAME.so` in ${CMAKE_BINARY_DIR}/backends (where the server looks for it,
# next to bin/). It builds against include/switchyard/ alone (backend.h and the header-only
# backend_sdk/) and exports only the ABI symbols (cmake/backend_plugin.map), so it can be built
# outside this project (for example the torch plugin on a GPU machine): include this file and set
# SWITCHYARD_INCLUDE_DIR first if the switchyard source tree is elsewhere.
if(NOT DEFINED SWITCHYARD_INCLUDE_DIR)
  set(SWITCHYARD_INCLUDE_DIR ${CMAKE_CURRENT_LIST_DIR}/../include)
endif()
set(SWITCHYARD_PLUGIN_MAP ${CMAKE_CURRENT_LIST_DIR}/backend_plugin.map)

if(NOT TARGET switchyard_backend_api)
  add_library(switchyard_backend_api INTERFACE)
  add_library(switchyard::backend_api ALIAS switchyard_backend_api)
  target_include_directories(switchyard_backend_api INTERFACE ${SWITCHYARD_INCLUDE_DIR})
endif()

function(switchyard_backend_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(switchyard_backend_${name} MODULE ${ARG_SOURCES})
  target_link_libraries(switchyard_backend_${name} PRIVATE switchyard::backend_api ${ARG_DEPS})
  set_target_properties(switchyard_backend_${name} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME switchyard_backend_${name}
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/backends
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(switchyard_backend_${name} PRIVATE
    -Wl,--version-script=${SWITCHYARD_PLUGIN_MAP})
  if(NOT SWITCHYARD_SANITIZE AND NOT SWITCHYARD_FUZZ)
    # Sanitizer runtimes are resolved from the executable, so only plain builds can insist.
    target_link_options(switchyard_backend_${name} PRIVATE -Wl,--no-undefined)
  endif()
  set_property(TARGET switchyard_backend_${name} APPEND PROPERTY LINK_DEPENDS ${SWITCHYARD_PLUGIN_MAP})
endfunction()
