# Cross-compile for Linux on AArch64 (arm64) with Debian's g++-aarch64-linux-gnu,
# running the test executables under qemu user-mode emulation:
#
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.toolchain.cmake
#   cmake --build build-arm64 -j2 && (cd build-arm64 && ctest --output-on-failure)
#
# Needs: apt-get install g++-aarch64-linux-gnu qemu-user-static
# Overridable (-D or environment): SIMDCONV_AARCH64_PREFIX (compiler prefix, default
# aarch64-linux-gnu-), SIMDCONV_AARCH64_SYSROOT (target libraries for qemu -L,
# default /usr/aarch64-linux-gnu), SIMDCONV_QEMU_AARCH64 (default qemu-aarch64-static).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

if(NOT SIMDCONV_AARCH64_PREFIX)
  if(DEFINED ENV{SIMDCONV_AARCH64_PREFIX})
    set(SIMDCONV_AARCH64_PREFIX "$ENV{SIMDCONV_AARCH64_PREFIX}")
  else()
    set(SIMDCONV_AARCH64_PREFIX aarch64-linux-gnu-)
  endif()
endif()
if(NOT SIMDCONV_AARCH64_SYSROOT)
  if(DEFINED ENV{SIMDCONV_AARCH64_SYSROOT})
    set(SIMDCONV_AARCH64_SYSROOT "$ENV{SIMDCONV_AARCH64_SYSROOT}")
  else()
    set(SIMDCONV_AARCH64_SYSROOT /usr/aarch64-linux-gnu)
  endif()
endif()
if(NOT SIMDCONV_QEMU_AARCH64)
  if(DEFINED ENV{SIMDCONV_QEMU_AARCH64})
    set(SIMDCONV_QEMU_AARCH64 "$ENV{SIMDCONV_QEMU_AARCH64}")
  else()
    set(SIMDCONV_QEMU_AARCH64 qemu-aarch64-static)
  endif()
endif()
# try_compile projects re-read this file; pass the choices on to them.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES
  SIMDCONV_AARCH64_PREFIX SIMDCONV_AARCH64_SYSROOT SIMDCONV_QEMU_AARCH64)

set(CMAKE_C_COMPILER ${SIMDCONV_AARCH64_PREFIX}gcc)
set(CMAKE_CXX_COMPILER ${SIMDCONV_AARCH64_PREFIX}g++)

# Look for target libraries/headers only in the target tree, programs on the host.
set(CMAKE_FIND_ROOT_PATH ${SIMDCONV_AARCH64_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# ctest (and try_run) run target executables through qemu; -L points the guest's
# dynamic loader and libc/libstdc++ at the cross toolchain's arm64 libraries.
find_program(SIMDCONV_QEMU_AARCH64_PATH NAMES ${SIMDCONV_QEMU_AARCH64} qemu-aarch64)
if(SIMDCONV_QEMU_AARCH64_PATH)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${SIMDCONV_QEMU_AARCH64_PATH} -L ${SIMDCONV_AARCH64_SYSROOT})
endif()
