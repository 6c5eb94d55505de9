#include "simdconv/conv_params.h"

#include <stdexcept>

#include "simdconv/checked_math.h"

namespace simdconv {

const char* pad_mode_name(PadMode m) {
  switch (m) {
    case PadMode::Zeros: return "zeros";
    case PadMode::Reflect: return "reflect";
    case PadMode::Replicate: return "replicate";
    case PadMode::Circular: return "circular";
  }
  return "unknown";
}

namespace {
// Sizes beyond this are refused: every index the library computes stays far
// from int64 overflow, and no single tensor exceeds 2^31 elements.
constexpr int64_t kMaxDim = int64_t(1) << 31;

void require(bool ok, const std::string& msg) {
  if (!ok) throw std::invalid_argument(msg);
}
void require_size(int64_t v, const char* name, int64_t min) {
  if (v < min || v > kMaxDim)
    throw std::invalid_argument(std::string(name) + " must be an integer in [" +
                                std::to_string(min) + ", 2^31], got " + std::to_string(v));
}

// H_out = (H_in - 1)*stride - pad_top - pad_bottom + dilation*(k - 1) + output_padding + 1
int64_t transposed_extent(int64_t in, int64_t stride, int64_t pad0, int64_t pad1, int64_t dilation,
                          int64_t kernel, int64_t out_pad, const char* axis) {
  const int64_t grown = checked_add(
      checked_add(checked_mul(in - 1, stride, axis), checked_mul(dilation, kernel - 1, axis), axis),
      out_pad + 1, axis);
  const int64_t out = grown - pad0 - pad1;  // each term <= 2^31: no wrap
  if (out < 1)
    throw std::invalid_argument(std::string("transposed convolution output ") + axis + " would be " +
                                std::to_string(out) + " (input " + std::to_string(in) + ", padding " +
                                std::to_string(pad0) + "): output size would be below 1");
  return out;
}

OutputSize transposed_output_size(const LayerParams& p, const CallShape& s) {
  OutputSize o{transposed_extent(s.height, p.stride_h, p.pad_top, p.pad_bottom, p.dilation_h,
                                 p.kernel_h, p.output_padding_h, "height"),
               transposed_extent(s.width, p.stride_w, p.pad_left, p.pad_right, p.dilation_w,
                                 p.kernel_w, p.output_padding_w, "width")};
  checked_product({s.batch, p.in_channels, s.height, s.width, 4}, "input bytes [N, C, H, W] x 4");
  checked_product({s.batch, p.out_channels, o.height, o.width, 4},
                  "output bytes [N, C, outH, outW] x 4");
  return o;
}
}  // namespace

void LayerParams::validate() const {
  require_size(in_channels, "in_channels", 1);
  require_size(out_channels, "out_channels", 1);
  require_size(kernel_h, "kernel_size[0]", 1);
  require_size(kernel_w, "kernel_size[1]", 1);
  require_size(stride_h, "stride[0]", 1);
  require_size(stride_w, "stride[1]", 1);
  require_size(dilation_h, "dilation[0]", 1);
  require_size(dilation_w, "dilation[1]", 1);
  require_size(pad_top, "padding (top)", 0);
  require_size(pad_bottom, "padding (bottom)", 0);
  require_size(pad_left, "padding (left)", 0);
  require_size(pad_right, "padding (right)", 0);
  require_size(groups, "groups", 1);
  require(in_channels % groups == 0, "in_channels (" + std::to_string(in_channels) +
                                         ") must be divisible by groups (" +
                                         std::to_string(groups) + ")");
  require(out_channels % groups == 0, "out_channels (" + std::to_string(out_channels) +
                                          ") must be divisible by groups (" +
                                          std::to_string(groups) + ")");
  require(int(pad_mode) >= 0 && int(pad_mode) <= 3,
          "padding_mode must be zeros, reflect, replicate or circular");
  if (transposed) {
    require(pad_mode == PadMode::Zeros, "a transposed convolution supports only zeros padding_mode, got " +
                                            std::string(pad_mode_name(pad_mode)));
    // PyTorch: output padding must be smaller than either stride or dilation.
    require(output_padding_h >= 0 && (output_padding_h < stride_h || output_padding_h < dilation_h),
            "output_padding[0] (" + std::to_string(output_padding_h) +
                ") must be smaller than either stride[0] (" + std::to_string(stride_h) +
                ") or dilation[0] (" + std::to_string(dilation_h) + ")");
    require(output_padding_w >= 0 && (output_padding_w < stride_w || output_padding_w < dilation_w),
            "output_padding[1] (" + std::to_string(output_padding_w) +
                ") must be smaller than either stride[1] (" + std::to_string(stride_w) +
                ") or dilation[1] (" + std::to_string(dilation_w) + ")");
  } else {
    require(output_padding_h == 0 && output_padding_w == 0,
            "output_padding is only for a transposed convolution");
  }
  // Checked: e.g. 2^31 x 1 x 2^31 x 4 wraps to 0 in int64.
  const int64_t weights = checked_product({out_channels, in_per_group(), kernel_h, kernel_w},
                                          "weight size [out, in/groups, kH, kW]");
  if (weights > kMaxDim)
    throw std::length_error("weight would have " + std::to_string(weights) + " elements ([" +
                            std::to_string(out_channels) + ", " + std::to_string(in_per_group()) +
                            ", " + std::to_string(kernel_h) + ", " + std::to_string(kernel_w) +
                            "]), more than 2^31");
}

OutputSize output_size(const LayerParams& p, const CallShape& s) {
  p.validate();
  require_size(s.batch, "batch size", 1);
  require_size(s.height, "input height", 1);
  require_size(s.width, "input width", 1);
  if (p.transposed) return transposed_output_size(p, s);
  auto check_mode_pad = [&](int64_t pad, int64_t size, const char* axis) {
    if (p.pad_mode == PadMode::Reflect && pad >= size)
      throw std::invalid_argument(std::string("reflect padding (") + std::to_string(pad) +
                                  ") must be smaller than the input " + axis + " (" +
                                  std::to_string(size) + ")");
    if (p.pad_mode == PadMode::Circular && pad > size)
      throw std::invalid_argument(std::string("circular padding (") + std::to_string(pad) +
                                  ") must not exceed the input " + axis + " (" +
                                  std::to_string(size) + ")");
  };
  check_mode_pad(p.pad_top, s.height, "height");
  check_mode_pad(p.pad_bottom, s.height, "height");
  check_mode_pad(p.pad_left, s.width, "width");
  check_mode_pad(p.pad_right, s.width, "width");
  // Every operand is at most 2^31 (validate, require_size), so these fit;
  // checked all the same, so that a wider limit can never make them wrap.
  const int64_t span_h = checked_add(checked_mul(p.dilation_h, p.kernel_h - 1, "dilated kernel height"), 1,
                                     "dilated kernel height");
  const int64_t span_w = checked_add(checked_mul(p.dilation_w, p.kernel_w - 1, "dilated kernel width"), 1,
                                     "dilated kernel width");
  const int64_t padded_h = checked_add(checked_add(s.height, p.pad_top, "padded input height"),
                                       p.pad_bottom, "padded input height");
  const int64_t padded_w = checked_add(checked_add(s.width, p.pad_left, "padded input width"),
                                       p.pad_right, "padded input width");
  if (padded_h < span_h || padded_w < span_w)
    throw std::invalid_argument(
        "padded input size (" + std::to_string(padded_h) + " x " + std::to_string(padded_w) +
        ") is smaller than the dilated kernel (" + std::to_string(span_h) + " x " +
        std::to_string(span_w) + "): output size would be below 1");
  OutputSize o{(padded_h - span_h) / p.stride_h + 1, (padded_w - span_w) / p.stride_w + 1};
  // Element counts: the input and output (and their byte sizes) must be
  // addressable, so every index computed from them fits in int64.
  checked_product({s.batch, p.in_channels, s.height, s.width, 4}, "input bytes [N, C, H, W] x 4");
  checked_product({s.batch, p.out_channels, o.height, o.width, 4},
                  "output bytes [N, C, outH, outW] x 4");
  return o;
}

}  // namespace simdconv
