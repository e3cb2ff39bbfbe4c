# cmake -DBINARY=<file> -DFORBIDDEN=<name>,<name> -DLDD=<ldd> -P CheckLinked.cmake
# (see ForbidLinked.cmake): fails, naming the libraries, when ldd lists a
# shared library of BINARY whose name contains a forbidden name.
execute_process(COMMAND ${LDD} ${BINARY} OUTPUT_VARIABLE linked RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "ldd ${BINARY} failed (${status})")
endif()
string(REPLACE "," ";" forbidden "${FORBIDDEN}")
string(REPLACE "\n" ";" lines "${linked}")
set(found "")
foreach(line IN LISTS lines)
  string(STRIP "${line}" line)
  string(REGEX REPLACE " .*" "" library "${line}")
  foreach(name IN LISTS forbidden)
    if(library MATCHES "${name}")
      list(APPEND found "${library}")
    endif()
  endforeach()
endforeach()
if(found)
  file(REMOVE ${BINARY})
  message(FATAL_ERROR "${BINARY} links ${found}, which it must not (forbidden: ${FORBIDDEN}); "
    "see what pulls it in with `cmake --graphviz`. The binary was removed.")
endif()
