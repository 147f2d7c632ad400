// SPDX-License-Identifier: Apache-2.0
// txn_conformance.h: the transaction conformance table, one row per case of
// bpf/txn_spec.h with the outcome it must produce. Two tests walk it: the
// simulator's (tests/unit/txn_conformance_test.cc) and the real kernel's
// (tests/guest/txn_conformance_test.cc). Each builds every case on its own
// backend and expects the row's outcome, so both backends agree case by case.
#ifndef GHOST_HYBRID_TESTS_COMMON_TXN_CONFORMANCE_H_
#define GHOST_HYBRID_TESTS_COMMON_TXN_CONFORMANCE_H_

#include <cstdint>
#include <cstdio>

#include "agent/lib/run_request.h"
#include "bpf/intf.h"
#include "gtest/gtest.h"

namespace gh::testing {

// Each case runs on a backend whose enclave leaves out its last CPU, with
// a managed task T (runnable and waiting, unless the case says otherwise).
// Most commit one slot alone, on CPU 0 unless they say otherwise. The sync
// group cases commit T on CPU 0 and a second task U on CPU 1 as one sync
// group, then commit the group's valid task alone again: it must still be
// waiting, untouched (COMPLETE with the same barrier).
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
  kSyncGroup,          // sync group: T and U, both valid
  kSyncGroupLastStale, // sync group: T valid, U with Tseq - 1
  kSyncGroupFirstStale,// sync group: T with Tseq - 1, U valid
};

// What a case produced. GH_TXN_IDLE: the case has no such step.
struct TxnOutcomes {
  uint32_t slot = GH_TXN_IDLE;     // the (first) slot's outcome
  uint32_t partner = GH_TXN_IDLE;  // sync group: the second slot's (CPU 1)
  uint32_t retry = GH_TXN_IDLE;    // sync group: the valid task, alone again
};

struct TxnConformanceRow {
  TxnCase c;
  const char* name;
  TxnOutcomes expect;
};

inline constexpr TxnConformanceRow kTxnConformance[] = {
    {TxnCase::kComplete, "complete", {GH_TXN_COMPLETE}},
    {TxnCase::kCpuOutsideEnclave, "cpu_outside_enclave", {GH_TXN_CPU_UNAVAIL}},
    {TxnCase::kNullGtid, "null_gtid", {GH_TXN_INVALID_TARGET}},
    {TxnCase::kUnknownGtid, "unknown_gtid", {GH_TXN_TARGET_NOT_FOUND}},
    {TxnCase::kBadFlags, "bad_flags", {GH_TXN_INVALID_FLAGS}},
    {TxnCase::kStaleAgentBarrier, "stale_agent_barrier", {GH_TXN_AGENT_STALE}},
    {TxnCase::kIdle, "idle", {GH_TXN_COMPLETE}},
    {TxnCase::kStaleTaskBarrier, "stale_task_barrier", {GH_TXN_TARGET_STALE}},
    {TxnCase::kTaskOnOtherCpu, "task_on_other_cpu", {GH_TXN_TARGET_ONCPU}},
    {TxnCase::kAllowTaskOnCpu, "allow_task_oncpu", {GH_TXN_COMPLETE}},
    {TxnCase::kTaskAsleep, "task_asleep", {GH_TXN_TARGET_NOT_RUNNABLE}},
    {TxnCase::kCpuOutsideAffinity, "cpu_outside_affinity", {GH_TXN_INVALID_CPU}},
    {TxnCase::kFastPathOwned, "fast_path_owned", {GH_TXN_NOT_PERMITTED}},
    {TxnCase::kSyncGroup, "sync_group", {GH_TXN_COMPLETE, GH_TXN_COMPLETE}},
    {TxnCase::kSyncGroupLastStale, "sync_group_last_stale",
     {GH_TXN_POISONED, GH_TXN_TARGET_STALE, GH_TXN_COMPLETE}},
    {TxnCase::kSyncGroupFirstStale, "sync_group_first_stale",
     {GH_TXN_TARGET_STALE, GH_TXN_POISONED, GH_TXN_COMPLETE}},
};

// Prints what `backend` gave for `row` and expects the row's outcomes.
inline void ExpectOutcomes(const char* backend, const TxnConformanceRow& row,
                           const TxnOutcomes& got) {
  auto name = [](uint32_t s) { return s == GH_TXN_IDLE ? "-" : RunRequest::StateName(s); };
  std::printf("conformance %s %-24s %s %s %s\n", backend, row.name, name(got.slot),
              name(got.partner), name(got.retry));
  EXPECT_STREQ(name(got.slot), name(row.expect.slot)) << row.name;
  EXPECT_STREQ(name(got.partner), name(row.expect.partner)) << row.name << ": partner";
  EXPECT_STREQ(name(got.retry), name(row.expect.retry)) << row.name << ": retry";
}

}  // namespace gh::testing

#endif  // GHOST_HYBRID_TESTS_COMMON_TXN_CONFORMANCE_H_
