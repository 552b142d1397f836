# eddy_add_handler(<name> <source>...)
#
# Builds a trigger handler: a loadable module lib<name>.so that exports only
# the entry symbol (eddy_handler_init, written by EDDY_HANDLER) and links
# nothing but the header-only handler SDK (eddy::functions_sdk). Compare
# aws-lambda-cpp's aws_lambda_package_target.
#
# In the Eddy tree this file is included by functions/CMakeLists.txt; an
# installed SDK provides it through find_package(EddyFunctions):
#
#   find_package(EddyFunctions REQUIRED)
#   eddy_add_handler(audit audit.cc)
#
# On Linux the module is linked with
#   - a version script exporting eddy_handler_init alone: nothing of the
#     handler (or of the C++ library's inline code) can clash with the host
#     or another handler, and no STB_GNU_UNIQUE symbol pins the module in
#     memory, so dlclose() really unloads it and a rebuilt handler can be
#     loaded again in the same process;
#   - -z defs, so a handler that uses a symbol it does not link fails at build
#     time rather than at load time in a worker. Set
#     EDDY_HANDLER_ALLOW_UNDEFINED to ON to turn that off (e.g. with a
#     sanitizer runtime that is not linked into shared objects).
include_guard(GLOBAL)

option(EDDY_HANDLER_ALLOW_UNDEFINED
  "Allow undefined symbols in handlers built with eddy_add_handler" OFF)

function(eddy_add_handler name)
  if(NOT ARGN)
    message(FATAL_ERROR "eddy_add_handler(${name}): no source files")
  endif()
  if(NOT TARGET eddy::functions_sdk)
    message(FATAL_ERROR "eddy_add_handler(${name}): eddy::functions_sdk is "
      "not defined; call find_package(EddyFunctions) first")
  endif()
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE eddy::functions_sdk)
  set_target_properties(${name} PROPERTIES
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    set(exports ${CMAKE_BINARY_DIR}/eddy_handler_exports.map)
    if(NOT EXISTS ${exports})
      file(WRITE ${exports}
        "{\n  global: eddy_handler_init;\n  local: *;\n};\n")
    endif()
    target_link_options(${name} PRIVATE "LINKER:--version-script=${exports}")
    set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS ${exports})
    if(NOT EDDY_HANDLER_ALLOW_UNDEFINED)
      target_link_options(${name} PRIVATE "LINKER:-z,defs")
    endif()
  endif()
endfunction()
