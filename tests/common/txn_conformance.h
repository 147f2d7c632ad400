// SPDX-License-Identifier: Apache-2.0
// txn_conformance.h: the transaction conformance table, one row per case of
// bpf/txn_spec.h with the outcome it must produce. Two tests walk it: the
// simulator's (tests/unit/txn_conformance_test.cc) and the real kernel's
// (tests/guest/txn_conformance_test.cc). Each builds every case on its own
// backend and expects the row's outcome, so both backends agree case by case.
#ifndef GHOST_HYBRID_TESTS_COMMON_TXN_CONFORMANCE_H_
#define GHOST_HYBRID_TESTS_COMMON_TXN_CONFORMANCE_H_

#include <cstdint>

#include "bpf/intf.h"

namespace gh::testing {

// Each case: one slot committed alone, on a backend whose enclave leaves
// out its last CPU, with a managed task T (runnable and waiting, unless
// the case says otherwise).
enum class TxnCase {
  kComplete,           // T, right barriers, an enclave CPU
  kCpuOutsideEnclave,  // T, on the CPU outside the enclave
  kNullGtid,           // gtid 0
  kUnknownGtid,        // T's pid with another generation
  kBadFlags,           // T, commit flag bit 7
  kStaleAgentBarrier,  // T, agent barrier checked, Aseq + 5
  kIdle,               // GH_IDLE_GTID
  kStaleTaskBarrier,   // T, Tseq - 1
  kTaskOnOtherCpu,     // T running on another CPU
  kAllowTaskOnCpu,     // T running on this CPU, GH_ALLOW_TASK_ONCPU
  kTaskAsleep,         // T blocked
  kCpuOutsideAffinity, // T may not run on the slot's CPU
  kFastPathOwned,      // fast path on: T waits in its queue, every CPU busy
};

struct TxnConformanceRow {
  TxnCase c;
  const char* name;
  uint32_t outcome;
};

inline constexpr TxnConformanceRow kTxnConformance[] = {
    {TxnCase::kComplete, "complete", GH_TXN_COMPLETE},
    {TxnCase::kCpuOutsideEnclave, "cpu_outside_enclave", GH_TXN_CPU_UNAVAIL},
    {TxnCase::kNullGtid, "null_gtid", GH_TXN_INVALID_TARGET},
    {TxnCase::kUnknownGtid, "unknown_gtid", GH_TXN_TARGET_NOT_FOUND},
    {TxnCase::kBadFlags, "bad_flags", GH_TXN_INVALID_FLAGS},
    {TxnCase::kStaleAgentBarrier, "stale_agent_barrier", GH_TXN_AGENT_STALE},
    {TxnCase::kIdle, "idle", GH_TXN_COMPLETE},
    {TxnCase::kStaleTaskBarrier, "stale_task_barrier", GH_TXN_TARGET_STALE},
    {TxnCase::kTaskOnOtherCpu, "task_on_other_cpu", GH_TXN_TARGET_ONCPU},
    {TxnCase::kAllowTaskOnCpu, "allow_task_oncpu", GH_TXN_COMPLETE},
    {TxnCase::kTaskAsleep, "task_asleep", GH_TXN_TARGET_NOT_RUNNABLE},
    {TxnCase::kCpuOutsideAffinity, "cpu_outside_affinity", GH_TXN_INVALID_CPU},
    {TxnCase::kFastPathOwned, "fast_path_owned", GH_TXN_NOT_PERMITTED},
};

}  // namespace gh::testing

#endif  // GHOST_HYBRID_TESTS_COMMON_TXN_CONFORMANCE_H_
