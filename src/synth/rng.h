// Small, fast, deterministic random numbers for the synthetic population generator.
//
// Every person gets their own stream seeded from (seed, person index), so what a person
// looks like never depends on how the work was split between threads. Not for cryptography.
#pragma once

#include <cmath>
#include <cstdint>

namespace joinedup::synth {

// SplitMix64 (Steele, Lea & Flood 2014): used to expand a seed into generator state.
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// xoshiro256++ (Blackman & Vigna 2019). Not thread-safe; one per person being generated.
class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) {
    uint64_t sm = seed ^ (stream * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL);
    for (auto& word : s_) word = SplitMix64(sm);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[0] + s_[3], 23) + s_[0];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n); n > 0.
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>(Uniform() * static_cast<double>(n)); }
  bool Chance(double p) { return Uniform() < p; }

  // Standard normal (Marsaglia polar method, spare value cached).
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * Uniform() - 1.0;
      v = 2.0 * Uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double m = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * m;
    has_spare_ = true;
    return u * m;
  }

  // Exponential with the given mean.
  double Exponential(double mean) { return -mean * std::log(1.0 - Uniform()); }

  // Poisson with mean `lambda` (>= 0): multiplication method for small means, a rounded
  // normal approximation for large ones (where the difference does not matter here).
  int Poisson(double lambda) {
    if (lambda <= 0.0) return 0;
    if (lambda < 30.0) {
      const double limit = std::exp(-lambda);
      int k = 0;
      double p = Uniform();
      while (p > limit) {
        ++k;
        p *= Uniform();
      }
      return k;
    }
    const double x = std::floor(lambda + std::sqrt(lambda) * Normal() + 0.5);
    return x < 0.0 ? 0 : static_cast<int>(x);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
  double spare_ = 0.0;
  bool has_spare_ = false;
};

// Inverse of the standard normal CDF for p in (0, 1) (Acklam's rational approximation,
// relative error below 1.2e-9). Used once per table cell at start-up, not per person.
double NormalQuantile(double p);

}  // namespace joinedup::synth
