# The runtime's folders form layers, lowest first:
#   wire         the DynamoDB JSON codecs of items and stream records
#   dispatcher   trigger delivery over any StreamSource (Eddy's shard logs or
#                a remote DynamoDB Streams endpoint)
#   runner       eddy runner: leases over the dispatcher
#   api          the DynamoDB API server (its admin operations drive the
#                dispatcher)
# A folder includes only from the layers below it (issue 14: the dispatcher
# used to include api/stream_format.h and api/json_codec.h while
# api/admin_ops.cc included the dispatcher, a loop between the two). This
# fails, naming the file and the include, when a file reaches up.
#
# cmake -DRUNTIME_DIR=<repo>/runtime -P check_layering.cmake
if(NOT DEFINED RUNTIME_DIR)
  message(FATAL_ERROR "check_layering: RUNTIME_DIR is not set")
endif()

# folder -> folders of the runtime it must not include from.
set(forbidden_wire "dispatcher;runner;api;cli")
set(forbidden_dispatcher "runner;api;cli")
set(forbidden_runner "api;cli")

set(violations "")
set(checked 0)
foreach(folder wire dispatcher runner)
  file(GLOB sources "${RUNTIME_DIR}/${folder}/*.h" "${RUNTIME_DIR}/${folder}/*.cc")
  if(NOT sources)
    message(FATAL_ERROR "check_layering: no sources in ${RUNTIME_DIR}/${folder}")
  endif()
  foreach(source IN LISTS sources)
    math(EXPR checked "${checked} + 1")
    file(STRINGS "${source}" includes REGEX "^[ \t]*#[ \t]*include[ \t]+\"")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^[^\"]*\"([^\"]*)\".*$" "\\1" header "${line}")
      foreach(upper IN LISTS forbidden_${folder})
        if(header MATCHES "^${upper}/")
          file(RELATIVE_PATH where "${RUNTIME_DIR}" "${source}")
          string(APPEND violations "\n  runtime/${where} includes \"${header}\" "
                 "(${folder} is below ${upper})")
        endif()
      endforeach()
    endforeach()
  endforeach()
endforeach()

if(violations)
  message(FATAL_ERROR "check_layering: includes that reach up a layer:${violations}")
endif()
message(STATUS "check_layering: ${checked} files of wire, dispatcher and runner, "
               "no include reaches up")
