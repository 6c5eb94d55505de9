# Included by CMakeLists.txt for the Linux prebuilds (-DSIMDCONV_GLIBC_SYSROOT=<dir>,
# set by scripts/build-linux-prebuild.sh): the addon is compiled by the host's
# GCC 12 as usual, but linked against the glibc 2.17 libraries in <dir>, so it
# loads on any glibc >= 2.17 (2.18 in practice: see the check in
# scripts/check-prebuilds.js). Every versioned symbol then comes from 2.17's
# libc, so none can be newer.
#
# - GCC's own library folder goes first on the -L path: the static libstdc++ and
#   libgcc are GCC 12's, not the sysroot's GCC 4.8 ones (no C++17 there).
# - -shared-libgcc: the unwinder comes from the system's libgcc_s.so.1 (GCC_3.0
#   .. GCC_4.2 symbols, present on every glibc system); the static libgcc_eh of
#   a GCC built on glibc >= 2.35 calls _dl_find_object@GLIBC_2.35.
# - -lpthread: before glibc 2.34 pthread_create and friends live in
#   libpthread.so.0, and the host's FindThreads (glibc 2.36) links nothing.
# - glibc_compat.cpp defines __libc_single_threaded (glibc 2.32+), which the
#   static libstdc++ references.
if(NOT EXISTS "${SIMDCONV_GLIBC_SYSROOT}/usr/lib/libc.so")
  message(FATAL_ERROR "SIMDCONV_GLIBC_SYSROOT=${SIMDCONV_GLIBC_SYSROOT}: no usr/lib/libc.so there "
    "(scripts/toolchains/sysroot.sh makes one)")
endif()
execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libstdc++.a
  OUTPUT_VARIABLE SIMDCONV_GCC_LIBSTDCXX OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT IS_ABSOLUTE "${SIMDCONV_GCC_LIBSTDCXX}")
  message(FATAL_ERROR "${CMAKE_CXX_COMPILER} has no static libstdc++ (libstdc++.a)")
endif()
get_filename_component(SIMDCONV_GCC_LIBDIR "${SIMDCONV_GCC_LIBSTDCXX}" DIRECTORY)
target_sources(simdconv_node PRIVATE binding/glibc_compat.cpp)
target_link_options(simdconv_node PRIVATE --sysroot=${SIMDCONV_GLIBC_SYSROOT}
  -L${SIMDCONV_GCC_LIBDIR} -L${SIMDCONV_GLIBC_SYSROOT}/usr/lib -L${SIMDCONV_GLIBC_SYSROOT}/lib
  -shared-libgcc)
target_link_libraries(simdconv_node PRIVATE pthread)
