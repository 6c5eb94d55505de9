// ConvLayer's tuning state (conv_layer.h: make_tunable, tune): the raw
// weights, the weights prepared for each tuned candidate, and the algorithm
// tune() chose per input shape and thread count. Guarded: forward() reads it
// concurrently with tune(). Prepared weights are never removed while the
// layer lives, so a call that took a reference keeps valid weights.
#pragma once
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "simdconv/conv_layer.h"

namespace simdconv {

struct ConvLayer::Tuning {
  struct Choice {
    CallShape shape;
    int threads;
    Algorithm algorithm;
  };

  const std::vector<float> raw;  // PyTorch's layout, as the layer was built
  std::mutex mu;
  std::vector<std::pair<Algorithm, std::unique_ptr<const Weights>>> prepared;
  // Not evicted with the plan cache: a tuned shape keeps its choice.
  std::vector<Choice> choices;

  explicit Tuning(std::vector<float> w) : raw(std::move(w)) {}

  const Weights* find(Algorithm a) {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& e : prepared)
      if (e.first == a) return e.second.get();
    return nullptr;
  }
  void add(Algorithm a, std::unique_ptr<const Weights> w) {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& e : prepared)
      if (e.first == a) return;  // prepared meanwhile by another call
    prepared.emplace_back(a, std::move(w));
  }
  static bool same(const Choice& c, const CallShape& s, int threads) {
    return c.threads == threads && c.shape.batch == s.batch && c.shape.height == s.height &&
           c.shape.width == s.width;
  }
  bool choice(const CallShape& s, int threads, Algorithm* out) {
    std::lock_guard<std::mutex> lock(mu);
    for (const Choice& c : choices)
      if (same(c, s, threads)) {
        *out = c.algorithm;
        return true;
      }
    return false;
  }
  void choose(const CallShape& s, int threads, Algorithm a) {
    std::lock_guard<std::mutex> lock(mu);
    for (Choice& c : choices)
      if (same(c, s, threads)) {
        c.algorithm = a;
        return;
      }
    choices.push_back(Choice{s, threads, a});
  }
  std::vector<Choice> all_choices() {
    std::lock_guard<std::mutex> lock(mu);
    return choices;
  }
};

}  // namespace simdconv
