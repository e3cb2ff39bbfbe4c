# calndro_service(NAME <binary> LIBRARY <library> NAMESPACE <c++ namespace>
#                 SOURCES <file>... [PRIVATE_LIBRARIES <target>...])
#
# A service as both services are built: one static library with all the
# logic (linked by the binary, the admin CLI and the tests; its headers are
# included as "<service>/x.h"), the service's migrations/*.sql embedded in
# it, and a binary whose main.cc only wires it. The library links every
# layer of services/common; PRIVATE_LIBRARIES are what it also uses itself,
# PUBLIC_LIBRARIES what its headers need too.
function(calndro_service)
  cmake_parse_arguments(ARG "" "NAME;LIBRARY;NAMESPACE" "SOURCES;PRIVATE_LIBRARIES;PUBLIC_LIBRARIES" ${ARGN})
  add_library(${ARG_LIBRARY} STATIC ${ARG_SOURCES})
  target_include_directories(${ARG_LIBRARY} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/..)
  target_link_libraries(${ARG_LIBRARY} PUBLIC
    calndro_text calndro_crypto calndro_base calndro_metrics calndro_grpc calndro_db calndro_rpc calndro_proto)
  if(ARG_PUBLIC_LIBRARIES)
    target_link_libraries(${ARG_LIBRARY} PUBLIC ${ARG_PUBLIC_LIBRARIES})
  endif()
  if(ARG_PRIVATE_LIBRARIES)
    target_link_libraries(${ARG_LIBRARY} PRIVATE ${ARG_PRIVATE_LIBRARIES})
  endif()
  embed_migrations(TARGET ${ARG_LIBRARY} NAMESPACE ${ARG_NAMESPACE} DIR ${CMAKE_CURRENT_SOURCE_DIR}/migrations)

  add_executable(${ARG_NAME} main.cc)
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LIBRARY})
endfunction()
