// Winograd F(2x2, 3x3): the weight transform (portable, once per layer; which
// ISA has transforms is in the capability table, kernels.h).
#include "simdconv/winograd.h"

namespace simdconv {

void winograd_weight_transform(const float* g, float* u) {
  static const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  double gg[4][3];  // G g
  for (int xi = 0; xi < 4; ++xi)
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int k = 0; k < 3; ++k) s += G[xi][k] * double(g[k * 3 + j]);
      gg[xi][j] = s;
    }
  for (int xi = 0; xi < 4; ++xi)
    for (int nu = 0; nu < 4; ++nu) {
      double s = 0;
      for (int j = 0; j < 3; ++j) s += gg[xi][j] * G[nu][j];
      u[xi * 4 + nu] = float(s);
    }
}

}  // namespace simdconv
