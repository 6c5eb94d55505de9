// The epilogue's activation names (epilogue.h): one table, read both ways.
#include "simdconv/epilogue.h"

#include <cstring>

namespace simdconv {

namespace {

struct ActName {
  ActKind kind;
  const char* name;
};

constexpr ActName kActNames[] = {
    {ActKind::None, "none"},         {ActKind::Relu, "relu"},
    {ActKind::Relu6, "relu6"},       {ActKind::LeakyRelu, "leaky_relu"},
    {ActKind::Hardtanh, "hardtanh"}, {ActKind::Elu, "elu"},
    {ActKind::Sigmoid, "sigmoid"},   {ActKind::Tanh, "tanh"},
    {ActKind::Silu, "silu"},         {ActKind::Hardswish, "hardswish"},
    {ActKind::Gelu, "gelu"},         {ActKind::GeluTanh, "gelu_tanh"},
};

}  // namespace

const char* act_kind_name(ActKind k) {
  for (const ActName& a : kActNames)
    if (a.kind == k) return a.name;
  return "unknown";
}

bool parse_act_kind(const char* name, ActKind* out) {
  if (name == nullptr) return false;
  for (const ActName& a : kActNames)
    if (std::strcmp(a.name, name) == 0) {
      *out = a.kind;
      return true;
    }
  return false;
}

}  // namespace simdconv
