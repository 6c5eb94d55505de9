// Geometry of one Conv2d layer and of one call on it, with PyTorch's shape rules.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace simdconv {

// torch.nn.Conv2d padding_mode. Zeros pads implicitly; the other three map an
// out-of-range input index back into the input (PyTorch pads with F.pad first).
enum class PadMode : int { Zeros = 0, Reflect = 1, Replicate = 2, Circular = 3 };

const char* pad_mode_name(PadMode m);

// Everything fixed when the layer is built. Padding is explicit and may be
// asymmetric: 'same' is resolved by the caller into top/left = total/2 and
// bottom/right = total - total/2, as PyTorch does.
struct LayerParams {
  int64_t in_channels = 0, out_channels = 0;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  PadMode pad_mode = PadMode::Zeros;
  // ConvTranspose2d: weight [Cin, Cout/groups, kH, kW] (the same element
  // count), zero padding only; the padding crops the output and the output
  // padding (smaller than the stride or the dilation, as PyTorch requires)
  // extends it at the bottom and right.
  bool transposed = false;
  int64_t output_padding_h = 0, output_padding_w = 0;

  int64_t in_per_group() const { return in_channels / groups; }
  int64_t out_per_group() const { return out_channels / groups; }
  // Length of one output element's reduction (GEMM K); for a transposed
  // layer, the most taps one output element can read.
  int64_t reduction() const { return in_per_group() * kernel_h * kernel_w; }
  int64_t weight_elements() const { return out_channels * reduction(); }

  // Throws std::invalid_argument naming the field when the layer itself is invalid.
  void validate() const;
};

// The input geometry of one forward call.
struct CallShape {
  int64_t batch = 1, height = 1, width = 1;
};

struct OutputSize { int64_t height, width; };

// Validates the call against the layer (throws std::invalid_argument naming the
// problem, e.g. reflect padding not smaller than the input) and returns the output size.
OutputSize output_size(const LayerParams& p, const CallShape& s);

// Maps a possibly out-of-range coordinate x of a size-n axis through the padding
// mode. Returns -1 for zero padding outside the input. Valid for |overhang| <= n
// (what PyTorch allows for each mode), which output_size() guarantees.
inline int64_t map_index(int64_t x, int64_t n, PadMode mode) {
  if (x >= 0 && x < n) return x;
  switch (mode) {
    case PadMode::Zeros: return -1;
    case PadMode::Reflect: return x < 0 ? -x : 2 * (n - 1) - x;
    case PadMode::Replicate: return x < 0 ? 0 : n - 1;
    case PadMode::Circular: return x < 0 ? x + n : x - n;
  }
  return -1;
}

}  // namespace simdconv
