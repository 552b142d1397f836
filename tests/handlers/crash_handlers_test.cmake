# The handlers that must never run in a test process do what their names
# say, each in its own eddy_load_handler process: segfault and abort die of
# their signal, infinite_loop never returns, memory_blowup under an
# address-space limit ends as a std::bad_alloc failure. Guards against a
# compiler quietly optimising a crash away, which would make the worker
# tests pass for the wrong reason. In a sanitizer build (SANITIZED) ASan
# cannot start under an address-space limit: there the cap is ASan's
# hard_rss_limit_mb, as the worker pool sets it, and ends the process.
#
# cmake -DLOADER=<eddy_load_handler> -DHANDLER_DIR=<dir> [-DSANITIZED=ON]
#       -P crash_handlers_test.cmake
foreach(var LOADER HANDLER_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "crash_handlers_test: ${var} is not set")
  endif()
endforeach()

# `timeout` bounds the run: short for infinite_loop (the point is that it
# never returns), generous for the others so a loaded machine cannot turn a
# crash into a timeout.
function(expect handler pattern timeout)
  execute_process(
    COMMAND ${ARGN} ${LOADER} ${HANDLER_DIR}/libtest_handler_${handler}.so
      --expect failure
    TIMEOUT ${timeout}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT "${rc}\n${out}\n${err}" MATCHES "${pattern}")
    message(FATAL_ERROR
      "${handler}: expected ${pattern}, got \"${rc}\"\n${out}\n${err}")
  endif()
  message(STATUS "${handler}: ${rc}")
endfunction()

expect(segfault "[Ss]egmentation" 60)
expect(abort "[Aa]bort" 60)
expect(infinite_loop "timeout" 2)
if(SANITIZED)
  # ASan's report goes to stderr here, not to scripts/test's log files.
  expect(memory_blowup "hard rss limit exhausted" 60
    env ASAN_OPTIONS=hard_rss_limit_mb=1024)
else()
  expect(memory_blowup "^0\n.*error: Unhandled: std::bad_alloc" 60
    sh -c "ulimit -v 1048576 && exec \"$0\" \"$@\"")
endif()
