# calndro_forbid_linked(TARGET <executable> LIBRARIES <name>...)
#
# After every link of <executable>, fails the build when ldd lists a shared
# library whose name contains one of <name>s (e.g. "pqxx"): a layer the
# binary must not depend on has crept into its link line (a library linked
# PUBLIC one level too far down, a header that drags a target in). The
# binary is removed on failure, so the next build links and checks again.
find_program(CALNDRO_LDD ldd)

function(calndro_forbid_linked)
  cmake_parse_arguments(ARG "" "TARGET" "LIBRARIES" ${ARGN})
  if(NOT CALNDRO_LDD)
    message(WARNING "ldd not found: what ${ARG_TARGET} links is not checked")
    return()
  endif()
  string(REPLACE ";" "," forbidden "${ARG_LIBRARIES}")
  add_custom_command(TARGET ${ARG_TARGET} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -DBINARY=$<TARGET_FILE:${ARG_TARGET}> -DFORBIDDEN=${forbidden}
      -DLDD=${CALNDRO_LDD} -P ${PROJECT_SOURCE_DIR}/cmake/CheckLinked.cmake
    VERBATIM)
endfunction()
