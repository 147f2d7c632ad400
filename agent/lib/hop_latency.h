// SPDX-License-Identifier: Apache-2.0
// hop_latency.h: HopLatency, where a runnable task's wait for a CPU went.
//
// A task that becomes runnable (WAKEUP, or back from a CPU with PREEMPT or
// YIELD) waits until it runs (TASK_ON_CPU). The kernel side stamps every
// message and every commit with its clock, so the wait splits into hops
// without the agent reading a clock:
//
//   kHopWaitToCommit  runnable -> the agent's commit (decision latency)
//   kHopCommitToRun   the commit -> the task on the CPU (dispatch latency)
//   kHopWaitToPick    runnable -> on a CPU by the fast path (no agent)
//
// Each hop is a histogram of power-of-two microsecond buckets plus the exact
// maximum: enough to tell which hop a tail is in (bench/latency/FINDINGS.md)
// at a few instructions per sample. Relaxed atomics: statistics only.
#ifndef GHOST_HYBRID_AGENT_LIB_HOP_LATENCY_H_
#define GHOST_HYBRID_AGENT_LIB_HOP_LATENCY_H_

#include <array>
#include <atomic>
#include <cstdint>

namespace gh {

enum Hop { kHopWaitToCommit, kHopCommitToRun, kHopWaitToPick, kNumHops };

class HopLatency {
 public:
  // Bucket b holds samples below 2^b us (the last one everything longer).
  static constexpr int kBuckets = 26;

  static const char* HopName(Hop h);
  static int Bucket(uint64_t ns);
  // The upper bound of bucket `b` in microseconds.
  static uint64_t BucketLimitUs(int b) { return uint64_t{1} << b; }

  void Note(uint64_t ns) {
    buckets_[Bucket(ns)].fetch_add(1, std::memory_order_relaxed);
    uint64_t max = max_ns_.load(std::memory_order_relaxed);
    while (ns > max && !max_ns_.compare_exchange_weak(max, ns, std::memory_order_relaxed)) {
    }
  }
  uint64_t count() const;
  uint64_t bucket(int b) const { return buckets_[b].load(std::memory_order_relaxed); }
  uint64_t max_ns() const { return max_ns_.load(std::memory_order_relaxed); }
  // The upper bound (us) of the bucket holding quantile q (0 < q <= 1), or
  // 0 with no samples.
  uint64_t QuantileLimitUs(double q) const;

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> max_ns_{0};
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_LIB_HOP_LATENCY_H_
