// Instruction sets the kernels are written for, detected once at start-up.
#pragma once

namespace simdconv {

// Ordered from the portable fallback upwards; a cap keeps everything <= it.
enum class Isa : int { Scalar = 0, Neon = 1, Avx2 = 2, Avx512 = 3 };

const char* isa_name(Isa isa);

// What this CPU and OS support (cpuid + XCR0 on x86; NEON is baseline on AArch64).
bool cpu_supports(Isa isa);

// The ISA in use: the best supported one, capped by SIMDCONV_MAX_ISA
// (scalar|neon|avx2|avx512) read once from the environment. Fixed for the process.
Isa active_isa();

// Parses an ISA name; returns false if unknown.
bool parse_isa(const char* name, Isa* out);

}  // namespace simdconv
