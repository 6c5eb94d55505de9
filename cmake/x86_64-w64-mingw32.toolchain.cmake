# Cross-compile for Windows x64 with Debian's MinGW-w64 (the -posix flavour:
# its libstdc++ has std::thread / std::mutex on winpthreads):
#
#   cmake -S . -B build-win32-cpp -DCMAKE_TOOLCHAIN_FILE=cmake/x86_64-w64-mingw32.toolchain.cmake
#   cmake --build build-win32-cpp -j2 && (cd build-win32-cpp && WINEDEBUG=-all ctest --output-on-failure)
#
# Needs: apt-get install g++-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64 (and wine64 for ctest)
# scripts/build-win32-prebuild.sh drives it for the Node-API addon.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)

set(SIMDCONV_MINGW_PREFIX x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${SIMDCONV_MINGW_PREFIX}-gcc-posix)
set(CMAKE_CXX_COMPILER ${SIMDCONV_MINGW_PREFIX}-g++-posix)
set(CMAKE_RC_COMPILER ${SIMDCONV_MINGW_PREFIX}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${SIMDCONV_MINGW_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Test executables link everything statically (no MinGW DLLs to find at run
# time) and ctest runs them under Wine when it is installed.
set(CMAKE_EXE_LINKER_FLAGS_INIT -static)
find_program(SIMDCONV_WINE64 NAMES wine64 PATHS /usr/lib/wine NO_DEFAULT_PATH)
if(NOT SIMDCONV_WINE64)
  find_program(SIMDCONV_WINE64 NAMES wine64)
endif()
if(SIMDCONV_WINE64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${SIMDCONV_WINE64})
endif()
