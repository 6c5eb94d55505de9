// The free parts of measured tuning (tune.h): which algorithms are
// candidates for a layer, their names, the environment switch.
#include "simdconv/tune.h"

#include <cstdlib>
#include <cstring>

namespace simdconv {

std::vector<Algorithm> candidate_algorithms(const LayerParams& p, Isa isa) {
  // A transposed layer runs on the transposed algorithms only; the others
  // compute a forward conv.
  if (p.transposed) return {Algorithm::TransposedGemm, Algorithm::TransposedDirect};
  std::vector<Algorithm> c{Algorithm::Gemm};
  // The dense direct kernel runs one group; a grouped layer runs the grouped
  // form of the same kernel (the algorithms choose_algorithm() picks from).
  c.push_back(p.groups == 1 ? Algorithm::Direct : Algorithm::GroupedDirect);
  if (p.in_per_group() == 1) c.push_back(Algorithm::Depthwise);
  if (winograd_applies(p, isa)) c.push_back(Algorithm::Winograd);
  return c;
}

bool algorithm_from_name(const std::string& name, Algorithm* out) {
  for (Algorithm a : {Algorithm::Gemm, Algorithm::Depthwise, Algorithm::GroupedDirect,
                      Algorithm::Direct, Algorithm::Winograd, Algorithm::TransposedDirect,
                      Algorithm::TransposedGemm})
    if (name == algorithm_name(a)) {
      *out = a;
      return true;
    }
  return false;
}

bool tune_env_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("SIMDCONV_TUNE");
    return v != nullptr && std::strcmp(v, "1") == 0;
  }();
  return on;
}

}  // namespace simdconv
