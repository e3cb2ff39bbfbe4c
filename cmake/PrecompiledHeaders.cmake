# Precompiled headers for the service code.
#
# Nearly every translation unit of the services and the gateway expands to
# 100,000-190,000 lines, almost all of them gRPC, Protobuf, libpqxx,
# nlohmann/json and cpp-httplib; parsing those again for each file was most of
# a cold build. They are compiled once, in calndro_common, and every other
# service target reuses that one precompiled header (REUSE_FROM: same flags).
#
# CALNDRO_PCH=OFF turns it off (e.g. to check that every file includes what
# it uses). ccache caches such builds only with the sloppiness below, which
# CMAKE_CXX_COMPILER_LAUNCHER=ccache gets here.
option(CALNDRO_PCH "precompile the heavy third-party headers once (faster cold builds)" ON)

# ccache caches a compile that uses a precompiled header only with this
# sloppiness (its manual, "Precompiled headers"); a ccache launcher gets it
# for this build alone, whatever the machine's ccache.conf says.
if(CALNDRO_PCH AND CMAKE_CXX_COMPILER_LAUNCHER MATCHES "(^|/)ccache$")
  execute_process(COMMAND ${CMAKE_CXX_COMPILER_LAUNCHER} --get-config sloppiness
    OUTPUT_VARIABLE calndro_ccache_sloppiness OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  string(REPLACE " " "" calndro_ccache_sloppiness "${calndro_ccache_sloppiness}")
  string(REPLACE "," ";" calndro_ccache_sloppiness "${calndro_ccache_sloppiness}")
  list(APPEND calndro_ccache_sloppiness pch_defines time_macros)
  list(REMOVE_DUPLICATES calndro_ccache_sloppiness)
  list(REMOVE_ITEM calndro_ccache_sloppiness "")
  string(REPLACE ";" "," calndro_ccache_sloppiness "${calndro_ccache_sloppiness}")
  # A normal variable shadows the cache entry: targets made below pick it up.
  set(CMAKE_CXX_COMPILER_LAUNCHER
    ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=${calndro_ccache_sloppiness} ${CMAKE_CXX_COMPILER_LAUNCHER})
endif()

# Clang stamps a header's mtime into its PCH; a PCH that ccache restores
# would then be refused next to a freshly written cmake_pch.hxx.
if(CALNDRO_PCH AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  add_compile_options("SHELL:-Xclang -fno-pch-timestamp")
endif()

set(CALNDRO_PCH_HEADERS
  <algorithm>
  <chrono>
  <functional>
  <map>
  <memory>
  <mutex>
  <optional>
  <string>
  <string_view>
  <vector>
  <grpcpp/grpcpp.h>
  <google/protobuf/util/json_util.h>
  <nlohmann/json.hpp>
  <pqxx/pqxx>
  <httplib.h>
  <calndro/events/v1/events.grpc.pb.h>
  <calndro/notify/v1/notify.grpc.pb.h>
)

# calndro_precompiled_headers(OWNER <target> [EXCLUDE <target>...])
# Compiles the headers above in OWNER and lets every other compiled target of
# the project reuse them, but those EXCLUDEd (OWNER's own dependencies).
function(calndro_precompiled_headers)
  cmake_parse_arguments(ARG "" "OWNER" "EXCLUDE" ${ARGN})
  if(NOT CALNDRO_PCH)
    return()
  endif()
  target_precompile_headers(${ARG_OWNER} PRIVATE ${CALNDRO_PCH_HEADERS})
  set(pending ${CMAKE_SOURCE_DIR})
  while(pending)
    list(POP_FRONT pending dir)
    get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
    list(APPEND pending ${subdirs})
    get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
    foreach(target ${targets})
      get_target_property(type ${target} TYPE)
      if(type MATCHES "^(EXECUTABLE|STATIC_LIBRARY)$" AND NOT target STREQUAL ARG_OWNER
         AND NOT target IN_LIST ARG_EXCLUDE)
        target_precompile_headers(${target} REUSE_FROM ${ARG_OWNER})
      endif()
    endforeach()
  endwhile()
endfunction()
