# The SDK install test: install the handler SDK to a fresh prefix, build a
# one-file handler out of tree against it with find_package(EddyFunctions) +
# eddy_add_handler(), and load and run it with the functions host.
#
# cmake -DBUILD_DIR=<eddy build> -DSOURCE_DIR=<tests/handlers/out_of_tree>
#       -DWORK_DIR=<scratch> -DLOADER=<eddy_load_handler>
#       -DCXX_COMPILER=<c++> -DGENERATOR=<generator> -P sdk_install_test.cmake
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR LOADER CXX_COMPILER GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "sdk_install_test: ${var} is not set")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc
    OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --component eddy_functions_sdk
  --prefix ${prefix})
if(EXISTS ${prefix}/include/eddy/functions/handler_library.h)
  message(FATAL_ERROR "the host header was installed with the SDK")
endif()

run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${build} -G ${GENERATOR}
  -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
  -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${build})

set(module ${build}/libaudit.so)
if(NOT EXISTS ${module})
  message(FATAL_ERROR "expected ${module}")
endif()
# Only the entry symbol is exported (hidden visibility + version script): no
# SDK or C++ library internals that could clash with the host or another
# handler, and no STB_GNU_UNIQUE symbol that would stop dlclose() unloading.
find_program(NM nm)
if(NM)
  run(${NM} -D --defined-only ${module})
  string(REGEX REPLACE "[0-9a-f]+ T eddy_handler_init\n" "" others
    "${run_output}")
  if(NOT run_output MATCHES "eddy_handler_init" OR NOT others STREQUAL "")
    message(FATAL_ERROR "expected eddy_handler_init alone:\n${run_output}")
  endif()
endif()

run(${LOADER} ${module})
foreach(expected "log: INSERT song-1 n=42" "log: MODIFY song-2 n=42"
    "outcome: success")
  string(FIND "${run_output}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "missing \"${expected}\" in:\n${run_output}")
  endif()
endforeach()
message(STATUS "SDK install test passed:\n${run_output}")
