// Linked only into the Linux prebuilds made against an old glibc sysroot
// (cmake/glibc-sysroot.cmake), never into a native build.
//
// GCC 12's static libstdc++ (built on a glibc >= 2.32) reads glibc's
// __libc_single_threaded to skip atomic reference counting while a process
// has one thread. glibc 2.17 to 2.31 have no such variable, so the addon
// defines its own, hidden (it binds here and is never exported): 0 means "may
// be multi-threaded", so libstdc++ always takes the atomic path, which is
// correct in every process, only without the single-thread shortcut.
extern "C" {
__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;
}
