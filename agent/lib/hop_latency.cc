// SPDX-License-Identifier: Apache-2.0
#include "agent/lib/hop_latency.h"

namespace gh {

const char* HopLatency::HopName(Hop h) {
  switch (h) {
    case kHopWaitToCommit: return "wait_to_commit";
    case kHopCommitToRun: return "commit_to_run";
    case kHopWaitToPick: return "wait_to_pick";
    case kNumHops: break;
  }
  return "?";
}

int HopLatency::Bucket(uint64_t ns) {
  // The bit width of us: the first b with us < 2^b.
  const uint64_t us = ns / 1000;
  const int b = us == 0 ? 0 : 64 - __builtin_clzll(us);
  return b < kBuckets ? b : kBuckets - 1;
}

uint64_t HopLatency::count() const {
  uint64_t n = 0;
  for (int b = 0; b < kBuckets; ++b) n += bucket(b);
  return n;
}

uint64_t HopLatency::QuantileLimitUs(double q) const {
  const uint64_t n = count();
  if (n == 0) return 0;
  uint64_t acc = 0;
  for (int b = 0; b < kBuckets; ++b) {
    acc += bucket(b);
    if (static_cast<double>(acc) >= q * static_cast<double>(n)) return BucketLimitUs(b);
  }
  return BucketLimitUs(kBuckets - 1);
}

}  // namespace gh
