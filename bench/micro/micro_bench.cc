// SPDX-License-Identifier: Apache-2.0
// micro_bench.cc: ghost_hybrid's ABI microbenchmarks, run natively on a
// kernel that has BPF but not sched_ext.
//
//   message delivery   a BPF program (bench_send in micro.bpf.c, which calls
//                      messages.bpf.h's send_task_off_msg unchanged) stamps a
//                      gh_msg with bpf_ktime_get_ns() and publishes it on the
//                      default channel; a consumer thread pinned to another
//                      CPU spins on the project's RingChannel (Peek/Consume,
//                      no syscall) and records CLOCK_MONOTONIC - stamp.
//                      One event in flight; BPF messages alternate with a
//                      bare C++ store of a stamp (the floor: what any
//                      shared-memory hand-off between these two CPUs costs).
//                      p50/p90/p99/p99.9 over 300k messages in 6 rounds; also
//                      the producer's cost per send (syscall and in-BPF).
//   status-word read   gh::StatusWord (agent/lib/status_word.h) over the
//                      mmapped task_sw map: L1-hot reads, the agent's stale()
//                      + flags() check, and reads of words another CPU has
//                      just written (one word; a scan of 64).
//
// No commit cost: latched commits move the task between sched_ext DSQs
// inside gh_commit, which only a kernel running the scheduler can do, so the
// commit cost is no longer measured on the host (it is exercised in the
// guest by tests/guest/latched_commit_test.cc). gh_commit and gh_rq_op,
// which the scheduler's headers bring into micro.bpf.c, are not loaded.
//
// Google Benchmark drives the costs; each also records per-iteration samples
// whose median is the reported figure (robust to preemption on a shared
// machine). Results: one JSON file (--out).
//
// Usage: micro_bench [--smoke] [--out=PATH] [--producer-cpu=N]
//                    [--consumer-cpu=N] [--messages=N] [--repetitions=N]
//                    [--benchmark_filter=... (profiling)]
// Exit status: 0 if every benchmark ran and every correctness check held
// (targets missed are reported, not failures), 1 otherwise (2: usage).
#include <benchmark/benchmark.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/kernel/ring_channel.h"
#include "agent/lib/status_word.h"
#include "bpf/intf.h"
#include "micro.skel.h"
#include "nlohmann/json.hpp"

namespace {

// ------------------------------------------------------------------ options

struct Options {
  bool smoke = false;
  std::string out;
  int producer_cpu = 0;
  int consumer_cpu = 1;
  int messages = 0;  // 0: mode default
  int warmup = 0;
  int repetitions = 0;
  double min_time = 0;
  // Profiling: --benchmark_* flags go to Google Benchmark; with any of
  // them, the delivery loop and the JSON are skipped.
  std::vector<std::string> gbench_flags;
};

constexpr int kBatch = 256;             // bench_send_batch messages per run
constexpr uint32_t kDeliverySw = 0;     // task status word of the sending task
constexpr uint32_t kHotSw = 16;         // words on cache lines of their own
constexpr uint32_t kRemoteSw = 32;

bool g_failed = false;

void Fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("micro_bench: FAIL: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  g_failed = true;
}

inline uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // bpf_ktime_get_ns()'s clock
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

inline void CpuRelax() { __builtin_ia32_pause(); }

bool PinTo(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

std::string ReadFile(const char* path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// ------------------------------------------------------------ the BPF object

std::string* g_libbpf_log = new std::string();

int LibbpfPrint(enum libbpf_print_level level, const char* fmt, va_list args) {
  char* buf = nullptr;
  if (vasprintf(&buf, fmt, args) < 0) return 0;
  if (level != LIBBPF_DEBUG) g_libbpf_log->append(buf);
  if (getenv("MICRO_LIBBPF_DEBUG")) fputs(buf, stderr);
  free(buf);
  return 0;
}

struct Bench {
  micro_bpf* skel = nullptr;
  gh_status_word* task_sw = nullptr;
  gh_status_word* agent_sw = nullptr;
  std::unique_ptr<gh::RingChannel> channel;
  // Diagnostics only: the default channel's consumer and producer positions,
  // mapped a second time read-only (same cache lines RingChannel reads).
  const uint64_t* ring_cons = nullptr;
  const uint64_t* ring_prod = nullptr;
  size_t page = 0;
  int fd_send = -1, fd_batch = -1, fd_nop = -1, fd_rb = -1, fd_chan = -1;
  Options opt;

  ~Bench() {
    channel.reset();
    if (ring_cons) munmap(const_cast<uint64_t*>(ring_cons), page);
    if (ring_prod) munmap(const_cast<uint64_t*>(ring_prod), page);
    if (skel) {
      auto unmap = [](bpf_map* m, void* p) {
        if (p) munmap(p, static_cast<size_t>(bpf_map__value_size(m)) * bpf_map__max_entries(m));
      };
      unmap(skel->maps.task_sw, task_sw);
      unmap(skel->maps.agent_sw, agent_sw);
      micro_bpf__destroy(skel);
    }
  }
};

template <typename T>
T* MapArray(bpf_map* map) {
  size_t bytes = static_cast<size_t>(bpf_map__value_size(map)) * bpf_map__max_entries(map);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);
  return p == MAP_FAILED ? nullptr : static_cast<T*>(p);
}

// Runs a syscall program; returns 0 or -errno.
inline int RunProg(int fd, void* ctx, size_t size) {
  bpf_test_run_opts opts = {};
  opts.sz = sizeof(opts);
  opts.ctx_in = ctx;
  opts.ctx_size_in = static_cast<uint32_t>(size);
  return bpf_prog_test_run_opts(fd, &opts) ? -errno : 0;
}

struct bench_send_args {  // micro.bpf.c
  int32_t cpu;
  uint32_t count;
  uint64_t runtime;
  uint64_t elapsed_ns;
};

std::unique_ptr<Bench> Setup(const Options& opt) {
  libbpf_set_print(LibbpfPrint);
  auto b = std::make_unique<Bench>();
  b->opt = opt;
  b->skel = micro_bpf__open();
  if (!b->skel) {
    Fail("cannot open the BPF object: %s", g_libbpf_log->c_str());
    return nullptr;
  }
  // cpu_valid() bounds the message path's CPUs (the event's, the agent's)
  // by nr_cpus: the possible CPUs, as the scheduler's loader sets it.
  const int possible = libbpf_num_possible_cpus();
  if (possible <= std::max(opt.producer_cpu, opt.consumer_cpu) || possible > GH_MAX_CPUS) {
    Fail("libbpf_num_possible_cpus() = %d: need more than CPU %d and at most %d", possible,
         std::max(opt.producer_cpu, opt.consumer_cpu), static_cast<int>(GH_MAX_CPUS));
    return nullptr;
  }
  b->skel->rodata->nr_cpus = static_cast<uint32_t>(possible);
  // The scheduler's programs that move tasks between sched_ext DSQs
  // (bpf_iter_scx_dsq_new, scx_bpf_dsq_move) cannot load without sched_ext;
  // the benchmark does not run them.
  bpf_program__set_autoload(b->skel->progs.gh_commit, false);
  bpf_program__set_autoload(b->skel->progs.gh_rq_op, false);
  if (micro_bpf__load(b->skel) != 0) {
    Fail("cannot load the BPF object (%s); are you root? libbpf said:\n%s", strerror(errno),
         g_libbpf_log->c_str());
    return nullptr;
  }
  b->fd_send = bpf_program__fd(b->skel->progs.bench_send);
  b->fd_batch = bpf_program__fd(b->skel->progs.bench_send_batch);
  b->fd_nop = bpf_program__fd(b->skel->progs.bench_nop);
  b->fd_rb = bpf_program__fd(b->skel->progs.bench_rb_submit);
  b->fd_chan = bpf_program__fd(b->skel->progs.bench_task_channel);
  b->task_sw = MapArray<gh_status_word>(b->skel->maps.task_sw);
  b->agent_sw = MapArray<gh_status_word>(b->skel->maps.agent_sw);
  if (!b->task_sw || !b->agent_sw) {
    Fail("cannot mmap the status-word maps: %s", strerror(errno));
    return nullptr;
  }
  // A spinning global agent on the consumer CPU owns the default channel:
  // every message advances its Aseq; it is ACTIVE, so no doorbell rings.
  b->skel->data->chan_agent[GH_DEFAULT_CHANNEL] = opt.consumer_cpu;
  b->skel->data->global_cpu = opt.consumer_cpu;
  b->agent_sw[opt.consumer_cpu].flags = GH_SW_INUSE | GH_SW_AGENT_ACTIVE | GH_SW_AGENT_GLOBAL;
  b->agent_sw[opt.consumer_cpu].cpu = opt.consumer_cpu;
  // The sending task.
  uint64_t gtid = GH_GTID_MAKE(1, static_cast<uint32_t>(getpid()));
  b->task_sw[kDeliverySw].flags = GH_SW_INUSE | GH_SW_TASK_RUNNABLE;
  b->task_sw[kDeliverySw].gtid = gtid;
  b->skel->bss->bench_gtid = gtid;
  b->skel->bss->bench_sw_idx = kDeliverySw;
  if (int err = RunProg(bpf_program__fd(b->skel->progs.bench_setup), nullptr, 0)) {
    Fail("bench_setup failed: %s", strerror(-err));
    return nullptr;
  }
  b->task_sw[kHotSw].flags = GH_SW_INUSE;
  b->task_sw[kRemoteSw].flags = GH_SW_INUSE;
  auto ch = gh::RingChannel::Open(bpf_map__fd(b->skel->maps.default_channel));
  if (!ch.ok()) {
    Fail("cannot map the default channel: %s", std::string(ch.status().message()).c_str());
    return nullptr;
  }
  b->channel = std::make_unique<gh::RingChannel>(std::move(*ch));
  b->page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  int ring_fd = bpf_map__fd(b->skel->maps.default_channel);
  void* cons = mmap(nullptr, b->page, PROT_READ, MAP_SHARED, ring_fd, 0);
  void* prod = mmap(nullptr, b->page, PROT_READ, MAP_SHARED, ring_fd, static_cast<off_t>(b->page));
  if (cons == MAP_FAILED || prod == MAP_FAILED) {
    Fail("cannot map the channel positions: %s", strerror(errno));
    return nullptr;
  }
  b->ring_cons = static_cast<const uint64_t*>(cons);
  b->ring_prod = static_cast<const uint64_t*>(prod);
  return b;
}

// --------------------------------------------------------------- statistics

struct Percentiles {
  size_t n = 0;
  double min = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
};

// Nearest-rank percentiles.
template <typename T>
Percentiles Summarize(std::vector<T> v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto rank = [&](double q) {
    size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
    return static_cast<double>(v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)]);
  };
  p.n = v.size();
  p.min = static_cast<double>(v.front());
  p.max = static_cast<double>(v.back());
  p.p50 = rank(0.50);
  p.p90 = rank(0.90);
  p.p99 = rank(0.99);
  p.p999 = rank(0.999);
  long double sum = 0;
  for (T x : v) sum += x;
  p.mean = static_cast<double>(sum / v.size());
  return p;
}

// ------------------------------------------- experiment: an overlapped Peek
//
// NOT the project's consumer: a variant of RingChannel::Peek() used by one
// diagnostic round only. RingChannel loads the producer position, branches,
// and only then loads the record header; while the consumer spins the branch
// is predicted "empty", so when a record arrives the two cache misses
// (producer position, header) happen one after the other. This variant
// issues both loads before the branch (and re-reads the header after the
// producer position's acquire load, which keeps the ordering argument of
// the original), so that the two misses can overlap.
class OverlapReader {
 public:
  bool Open(int fd) {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    bpf_map_info info = {};
    uint32_t len = sizeof(info);
    if (bpf_map_get_info_by_fd(fd, &info, &len) != 0) return false;
    size_ = info.max_entries;
    void* c = mmap(nullptr, page_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    void* p = mmap(nullptr, page_ + 2 * size_, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(page_));
    if (c == MAP_FAILED || p == MAP_FAILED) return false;
    cons_ = static_cast<uint64_t*>(c);
    prod_ = static_cast<const char*>(p);
    return true;
  }
  ~OverlapReader() {
    if (cons_) munmap(cons_, page_);
    if (prod_) munmap(const_cast<char*>(prod_), page_ + 2 * size_);
  }
  const gh_msg* Peek() {
    uint64_t cons = __atomic_load_n(cons_, __ATOMIC_RELAXED);
    const char* hdr = prod_ + page_ + (cons & (size_ - 1));
    uint64_t prod = __atomic_load_n(reinterpret_cast<const uint64_t*>(prod_), __ATOMIC_ACQUIRE);
    uint32_t early = __atomic_load_n(reinterpret_cast<const uint32_t*>(hdr), __ATOMIC_RELAXED);
    benchmark::DoNotOptimize(early);  // issued before the branch below
    if (cons >= prod) return nullptr;
    uint32_t len = __atomic_load_n(reinterpret_cast<const uint32_t*>(hdr), __ATOMIC_ACQUIRE);
    if (len & (1u << 31)) return nullptr;  // busy
    pending_ = ((len & ~(1u << 30)) + 8 + 7) & ~7ull;
    return reinterpret_cast<const gh_msg*>(hdr + 8);
  }
  void Consume() {
    uint64_t cons = __atomic_load_n(cons_, __ATOMIC_RELAXED);
    __atomic_store_n(cons_, cons + pending_, __ATOMIC_RELEASE);
  }
  void DrainAll() {
    uint64_t prod = __atomic_load_n(reinterpret_cast<const uint64_t*>(prod_), __ATOMIC_ACQUIRE);
    __atomic_store_n(cons_, prod, __ATOMIC_RELEASE);
  }

 private:
  size_t page_ = 0, size_ = 0;
  uint64_t* cons_ = nullptr;
  const char* prod_ = nullptr;
  uint64_t pending_ = 0;
};

// ------------------------------------------------------- message delivery

struct DeliveryResult {
  Percentiles latency;       // stamp in BPF -> consumer sees the record
  Percentiles reference;     // the same for a bare C++ store (the floor)
  Percentiles overhead;      // latency - reference, adjacent pairs
  Percentiles send_syscall;  // producer: one bpf_prog_test_run_opts(bench_send)
  uint64_t seq_errors = 0;   // Tseq not consecutive
  uint64_t barrier_errors = 0;  // status word behind the message it carries
  uint64_t aseq_errors = 0;     // agent's Aseq not advanced by each message
  uint64_t lost = 0;
  uint64_t stats_msgs = 0, stats_dropped = 0;
  // Raw samples, for pooling rounds.
  std::vector<uint64_t> lat_raw, ref_raw, send_raw;
  std::vector<int64_t> diff_raw;
  // Latencies split by whether the consumer had already seen the record
  // reserved (producer position advanced, header still BUSY) before the
  // submit made it readable.
  std::vector<uint64_t> lat_seen_reserved, lat_not_seen;
  // Per round: p50 of latency and of the floor.
  std::vector<std::pair<double, double>> rounds;
};

// Pools round @r into @into (checks add up; percentiles recomputed).
void Pool(DeliveryResult& into, DeliveryResult& r) {
  into.seq_errors += r.seq_errors;
  into.barrier_errors += r.barrier_errors;
  into.aseq_errors += r.aseq_errors;
  into.lost += r.lost;
  into.stats_msgs += r.stats_msgs;
  into.stats_dropped += r.stats_dropped;
  into.rounds.emplace_back(r.latency.p50, r.reference.p50);
  auto append = [](auto& dst, const auto& src) { dst.insert(dst.end(), src.begin(), src.end()); };
  append(into.lat_raw, r.lat_raw);
  append(into.ref_raw, r.ref_raw);
  append(into.send_raw, r.send_raw);
  append(into.diff_raw, r.diff_raw);
  append(into.lat_seen_reserved, r.lat_seen_reserved);
  append(into.lat_not_seen, r.lat_not_seen);
  into.latency = Summarize(into.lat_raw);
  into.reference = Summarize(into.ref_raw);
  into.overhead = Summarize(into.diff_raw);
  into.send_syscall = Summarize(into.send_raw);
}

// The floor, interleaved with the BPF messages so that both see the same
// placement of this machine's CPUs (on a VM the one-way cache-line latency
// between two vCPUs changes with where the hypervisor runs them): the
// producer stores a CLOCK_MONOTONIC stamp into one cache line with a single
// store, the consumer sees it and subtracts it from its clock.
alignas(64) std::atomic<uint64_t> g_ref_stamp{0};

// Alternates one BPF message and one reference stamp; one event in flight.
// @ch: the consumer (the project's RingChannel, or the experiment above).
template <typename Reader>
DeliveryResult RunDelivery(Bench& b, Reader& ch, int samples, int warmup) {
  DeliveryResult r;
  const int per_kind = samples + warmup;
  const int total = 2 * per_kind;
  std::vector<uint64_t> lat(samples), ref(samples), send(samples);
  std::atomic<int> consumed{0};
  std::atomic<bool> consumer_ready{false}, abort{false};
  gh::StatusWord tsw(&b.task_sw[kDeliverySw]);
  gh::StatusWord asw(&b.agent_sw[b.opt.consumer_cpu]);
  const uint32_t seq0 = tsw.barrier();
  const uint32_t aseq0 = asw.barrier();
  uint64_t msgs0 = b.skel->bss->stats[GH_STAT_MSGS];
  uint64_t drop0 = b.skel->bss->stats[GH_STAT_MSGS_DROPPED];
  ch.DrainAll();
  g_ref_stamp.store(0);

  std::thread consumer([&] {
    if (!PinTo(b.opt.consumer_cpu)) Fail("cannot pin the consumer to CPU %d", b.opt.consumer_cpu);
    uint32_t expect = seq0 + 1;
    uint64_t last_ref = 0;
    int nmsg = 0, nref = 0;
    bool saw_reserved = false;
    consumer_ready.store(true, std::memory_order_release);
    while (nmsg + nref < total) {
      if (const gh_msg* m = ch.Peek()) {
        uint64_t now = NowNs();
        uint64_t stamp = m->hdr.time;
        uint32_t seq = m->hdr.seqnum;
        // The ordering contract: Tseq advances before the message carrying
        // it is published, so the word is never behind a message we see.
        if (static_cast<int32_t>(tsw.barrier() - seq) < 0) r.barrier_errors++;
        if (seq != expect || m->hdr.type != GH_MSG_TASK_PREEMPT) r.seq_errors++;
        expect = seq + 1;
        ch.Consume();
        if (nmsg >= warmup) {
          lat[nmsg - warmup] = now - stamp;
          (saw_reserved ? r.lat_seen_reserved : r.lat_not_seen).push_back(now - stamp);
        }
        saw_reserved = false;
        nmsg++;
        consumed.store(nmsg + nref, std::memory_order_release);
        continue;
      }
      // Lines Peek() just read: no extra coherence traffic.
      if (!saw_reserved && __atomic_load_n(b.ring_prod, __ATOMIC_ACQUIRE) >
                               __atomic_load_n(b.ring_cons, __ATOMIC_RELAXED)) {
        saw_reserved = true;
      }
      uint64_t s = g_ref_stamp.load(std::memory_order_acquire);
      if (s != last_ref) {
        uint64_t now = NowNs();
        last_ref = s;
        if (nref >= warmup) ref[nref - warmup] = now - s;
        nref++;
        consumed.store(nmsg + nref, std::memory_order_release);
        continue;
      }
      if (abort.load(std::memory_order_relaxed)) break;
    }
  });

  if (!PinTo(b.opt.producer_cpu)) Fail("cannot pin the producer to CPU %d", b.opt.producer_cpu);
  while (!consumer_ready.load(std::memory_order_acquire)) CpuRelax();
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> gap_ns(0, 1000);
  bench_send_args args = {};
  args.cpu = b.opt.producer_cpu;
  constexpr uint64_t kTimeout = 5000000000ull;  // a starved consumer, not a lost record
  for (int i = 0; i < total && !g_failed; i++) {
    uint64_t deadline = NowNs() + kTimeout;
    while (consumed.load(std::memory_order_acquire) < i && NowNs() < deadline) CpuRelax();
    if (consumed.load(std::memory_order_acquire) < i) break;
    // A random pause decorrelates sends from the consumer's loop phase.
    uint64_t until = NowNs() + static_cast<uint64_t>(gap_ns(rng));
    while (NowNs() < until) CpuRelax();
    if (i % 2 == 1) {
      g_ref_stamp.store(NowNs(), std::memory_order_release);
      continue;
    }
    args.runtime = static_cast<uint64_t>(i);
    uint64_t t0 = NowNs();
    int err = RunProg(b.fd_send, &args, sizeof(args));
    uint64_t t1 = NowNs();
    if (err) {
      Fail("bench_send failed: %s", strerror(-err));
      break;
    }
    if (i / 2 >= warmup) send[i / 2 - warmup] = t1 - t0;
  }
  uint64_t deadline = NowNs() + kTimeout;
  while (consumed.load(std::memory_order_acquire) < total && NowNs() < deadline) CpuRelax();
  if (consumed.load() < total) {
    r.lost = static_cast<uint64_t>(total - consumed.load());
    abort.store(true);
  }
  consumer.join();
  r.stats_msgs = b.skel->bss->stats[GH_STAT_MSGS] - msgs0;
  r.stats_dropped = b.skel->bss->stats[GH_STAT_MSGS_DROPPED] - drop0;
  // Every message advanced the channel agent's Aseq by exactly one.
  if (asw.barrier() - aseq0 != r.stats_msgs) r.aseq_errors = 1;
  if (r.lost == 0 && !g_failed) {
    std::vector<int64_t> diff(samples);
    for (int i = 0; i < samples; i++) {
      diff[i] = static_cast<int64_t>(lat[i]) - static_cast<int64_t>(ref[i]);
    }
    r.latency = Summarize(lat);
    r.reference = Summarize(ref);
    r.overhead = Summarize(diff);
    r.send_syscall = Summarize(send);
    r.lat_raw = std::move(lat);
    r.ref_raw = std::move(ref);
    r.send_raw = std::move(send);
    r.diff_raw = std::move(diff);
  }
  return r;
}

// A placement probe: the floor alone (no BPF), @samples one-way hand-offs of
// a CLOCK_MONOTONIC stamp from the producer CPU to the consumer CPU. On a VM
// the result moves with where the hypervisor runs the two vCPUs (sharing a
// core, a cache, or neither), so it is taken around each group of figures.
double FloorProbe(const Options& opt, int samples) {
  alignas(64) static std::atomic<uint64_t> stamp{0};
  alignas(64) static std::atomic<uint64_t> ack{0};
  stamp = 0;
  ack = 0;
  std::vector<uint64_t> lat(samples);
  std::thread reader([&] {
    PinTo(opt.consumer_cpu);
    uint64_t last = 0;
    for (int i = 1; i <= samples; i++) {
      uint64_t s;
      while ((s = stamp.load(std::memory_order_acquire)) == last) CpuRelax();
      uint64_t now = NowNs();
      last = s;
      lat[i - 1] = now - s;
      ack.store(i, std::memory_order_release);
    }
  });
  PinTo(opt.producer_cpu);
  for (int i = 1; i <= samples; i++) {
    while (ack.load(std::memory_order_acquire) != static_cast<uint64_t>(i - 1)) CpuRelax();
    uint64_t until = NowNs() + static_cast<uint64_t>((i * 7919) % 1000);
    while (NowNs() < until) CpuRelax();
    stamp.store(NowNs(), std::memory_order_release);
  }
  reader.join();
  return Summarize(lat).p50;
}

// --------------------------------------------------- Google Benchmark part
//
// Google Benchmark drives every cost below (iteration counts, repetitions,
// reporting), but its own figure is a mean, and on a shared machine a mean
// absorbs every preemption. So each benchmark also times each iteration
// itself (clock_gettime, minus the timer's own median cost) and reports the
// percentiles of those samples as counters; the JSON uses the per-sample
// median (p50_ns), taken as the median over repetitions.

Bench* g_bench = nullptr;
double g_timer_ns = 0;  // median cost of a back-to-back NowNs() pair

// Collects per-iteration samples (ns) and publishes their percentiles.
class Samples {
 public:
  explicit Samples(benchmark::State& state) : state_(state) { v_.reserve(1 << 16); }
  // Records one sample; also gives Google Benchmark its manual time.
  void Add(double ns) {
    v_.push_back(ns);
    state_.SetIterationTime(std::max(ns, 0.0) * 1e-9);
  }
  // Records t1 - t0 minus the timer's own cost, divided over @per items.
  void AddTimed(uint64_t t0, uint64_t t1, double per = 1) {
    Add((static_cast<double>(t1 - t0) - g_timer_ns) / per);
  }
  ~Samples() {
    if (v_.empty()) return;
    std::sort(v_.begin(), v_.end());
    auto q = [&](double f) { return v_[std::min(v_.size() - 1, static_cast<size_t>(f * v_.size()))]; };
    state_.counters["p10_ns"] = q(0.10);
    state_.counters["p50_ns"] = q(0.50);
    state_.counters["p90_ns"] = q(0.90);
    state_.counters["p99_ns"] = q(0.99);
  }

 private:
  benchmark::State& state_;
  std::vector<double> v_;
};

double MeasureTimerOverhead() {
  std::vector<uint64_t> v(200000);
  for (auto& x : v) {
    uint64_t t0 = NowNs();
    uint64_t t1 = NowNs();
    x = t1 - t0;
  }
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[v.size() / 2]);
}

// bpf_prog_test_run_opts() of an empty syscall program.
void BM_ProgRunNop(benchmark::State& state) {
  Samples s(state);
  for (auto _ : state) {
    uint64_t t0 = NowNs();
    int err = RunProg(g_bench->fd_nop, nullptr, 0);
    uint64_t t1 = NowNs();
    if (err) state.SkipWithError("bench_nop failed");
    s.AddTimed(t0, t1);
  }
}

// Runs program @fd once with @args and records the call's wall time.
template <typename Args>
bool TimedRun(Samples& s, int fd, Args* args) {
  uint64_t t0 = NowNs();
  int err = RunProg(fd, args, sizeof(*args));
  uint64_t t1 = NowNs();
  s.AddTimed(t0, t1);
  return err == 0;
}

// One message per syscall, consumer caught up (as with a spinning agent).
// Before msg_submit() passed BPF_RB_NO_WAKEUP, each such submit queued the
// ring's wakeup irq_work (a self-IPI): see FINDINGS.md.
void BM_SendCaughtUp(benchmark::State& state) {
  Samples s(state);
  bench_send_args args = {};
  args.cpu = g_bench->opt.producer_cpu;
  gh::RingChannel& ch = *g_bench->channel;
  ch.DrainAll();
  for (auto _ : state) {
    if (!TimedRun(s, g_bench->fd_send, &args)) state.SkipWithError("bench_send failed");
    ch.DrainAll();
  }
}

// One message per syscall, consumer behind (a backlog): no wakeup irq_work.
void BM_SendBacklog(benchmark::State& state) {
  Samples s(state);
  bench_send_args args = {};
  args.cpu = g_bench->opt.producer_cpu;
  gh::RingChannel& ch = *g_bench->channel;
  int n = 0;
  for (auto _ : state) {
    if (n++ % 4096 == 0) {  // the ring holds ~14k records
      ch.DrainAll();
      // Leave one record unread so that the next submit sees a backlog.
      RunProg(g_bench->fd_send, &args, sizeof(args));
    }
    if (!TimedRun(s, g_bench->fd_send, &args)) state.SkipWithError("bench_send failed");
  }
  ch.DrainAll();
  if (g_bench->skel->bss->stats[GH_STAT_MSGS_DROPPED]) state.SkipWithError("messages dropped");
}

// kBatch back-to-back sends timed with bpf_ktime_get_ns() inside the
// program (no syscall, no user-space timer in the figure); per message.
void BM_SendInBpf(benchmark::State& state) {
  Samples s(state);
  bench_send_args args = {};
  args.cpu = g_bench->opt.producer_cpu;
  args.count = kBatch;
  gh::RingChannel& ch = *g_bench->channel;
  for (auto _ : state) {
    ch.DrainAll();
    if (RunProg(g_bench->fd_batch, &args, sizeof(args))) state.SkipWithError("batch failed");
    s.Add(static_cast<double>(args.elapsed_ns) / kBatch);
  }
  ch.DrainAll();
}

// messages.bpf.h's task_seq_next() (one atomic add gives the Tseq and the
// channel; it replaced a task_chan hash lookup), kBatch calls timed inside
// BPF; per call.
void BM_TaskChannelInBpf(benchmark::State& state) {
  Samples s(state);
  bench_send_args args = {};
  args.count = kBatch;
  for (auto _ : state) {
    if (RunProg(g_bench->fd_chan, &args, sizeof(args))) state.SkipWithError("task_seq_next failed");
    s.Add(static_cast<double>(args.elapsed_ns) / kBatch);
  }
}

// A bare ringbuf reserve + submit per syscall, consumer caught up, with
// submit flags 0 (range(0) == 0, as msg_submit() had) or BPF_RB_NO_WAKEUP
// (as it has now).
void BM_RingbufSubmit(benchmark::State& state) {
  Samples s(state);
  bench_send_args args = {};
  args.count = state.range(0) ? BPF_RB_NO_WAKEUP : 0;
  gh::RingChannel& ch = *g_bench->channel;
  ch.DrainAll();
  for (auto _ : state) {
    if (!TimedRun(s, g_bench->fd_rb, &args)) state.SkipWithError("bench_rb_submit failed");
    ch.DrainAll();
  }
}

constexpr int kReadBatch = 1024;

// Agent-side read of a status word's barrier (Tseq/Aseq), L1-hot; per read,
// from batches of kReadBatch reads.
void BM_StatusWordBarrierHot(benchmark::State& state) {
  Samples s(state);
  gh::StatusWord sw(&g_bench->task_sw[kHotSw]);
  for (auto _ : state) {
    uint64_t t0 = NowNs();
    for (int i = 0; i < kReadBatch; i++) {
      gh::StatusWord::BarrierToken t = sw.barrier();
      benchmark::DoNotOptimize(t);
    }
    uint64_t t1 = NowNs();
    s.AddTimed(t0, t1, kReadBatch);
  }
}

// The agent's check before a commit: stale(prev) and the flags, L1-hot.
void BM_StatusWordStaleCheckHot(benchmark::State& state) {
  Samples s(state);
  gh::StatusWord sw(&g_bench->task_sw[kHotSw]);
  gh::StatusWord::BarrierToken prev = sw.barrier();
  for (auto _ : state) {
    uint64_t t0 = NowNs();
    for (int i = 0; i < kReadBatch; i++) {
      bool ok = !sw.stale(prev) && sw.in_use();
      benchmark::DoNotOptimize(ok);
    }
    uint64_t t1 = NowNs();
    s.AddTimed(t0, t1, kReadBatch);
  }
}

// Reads of status words that the other CPU has just written, as the agent
// reads a task's word after BPF changed it there. Each iteration: a writer
// thread on the consumer CPU bumps the barrier of K words (one cache line
// each) with an atomic add, as BPF bumps Tseq, and signals; then the timed
// region reads the K barriers through gh::StatusWord. K = range(0); per word.
void BM_StatusWordRemoteModified(benchmark::State& state) {
  Samples s(state);
  const int k = static_cast<int>(state.range(0));
  gh_status_word* words = &g_bench->task_sw[kRemoteSw];
  constexpr int kStride = 8;  // 8 x 40 bytes: each word on its own line
  alignas(64) static std::atomic<uint64_t> round{0};
  alignas(64) static std::atomic<uint64_t> done{0};
  round = 0;
  done = 0;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    PinTo(g_bench->opt.consumer_cpu);
    uint64_t seen = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      uint64_t r = round.load(std::memory_order_acquire);
      if (r == seen) {
        CpuRelax();
        continue;
      }
      seen = r;
      for (int i = 0; i < k; i++) __atomic_fetch_add(&words[i * kStride].barrier, 1, __ATOMIC_SEQ_CST);
      done.store(r, std::memory_order_release);
    }
  });
  std::vector<gh::StatusWord> sws;
  for (int i = 0; i < k; i++) sws.emplace_back(&words[i * kStride]);
  uint64_t n = 0;
  for (auto _ : state) {
    round.store(++n, std::memory_order_release);
    while (done.load(std::memory_order_acquire) != n) CpuRelax();
    uint64_t t0 = NowNs();
    uint32_t sum = 0;
    for (const gh::StatusWord& sw : sws) sum += sw.barrier();
    uint64_t t1 = NowNs();
    benchmark::DoNotOptimize(sum);
    s.AddTimed(t0, t1, k);
  }
  stop.store(true);
  writer.join();
}

// Collects every run; prints aggregates only when there are repetitions.
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  struct Result {
    std::map<std::string, double> counters;  // median over repetitions
    double mean_ns = 0;                      // Google Benchmark's own figure (median over reps)
    int64_t iterations = 0;
    int repetitions = 0;
    bool error = false;
    std::string error_message;
  };

  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> shown;
    for (const Run& r : runs) {
      std::string name = r.run_name.function_name;
      if (!r.run_name.args.empty()) name += "/" + r.run_name.args;
      if (r.error_occurred) {
        results_[name].error = true;
        results_[name].error_message = r.error_message;
        shown.push_back(r);
        continue;
      }
      if (r.run_type == Run::RT_Iteration) {
        Raw& raw = raw_[name];
        raw.mean.push_back(r.GetAdjustedRealTime());
        raw.iterations += r.iterations;
        for (const auto& [k, c] : r.counters) raw.counters[k].push_back(c.value);
        if (r.repetitions <= 1) shown.push_back(r);
      } else if (r.aggregate_name == "median") {
        shown.push_back(r);
      }
    }
    if (!shown.empty()) ConsoleReporter::ReportRuns(shown);
  }

  std::map<std::string, Result> Finish() {
    for (auto& [name, raw] : raw_) {
      Result& res = results_[name];
      res.mean_ns = Median(raw.mean);
      res.iterations = raw.iterations;
      res.repetitions = static_cast<int>(raw.mean.size());
      for (auto& [k, v] : raw.counters) res.counters[k] = Median(v);
    }
    return results_;
  }

 private:
  struct Raw {
    std::vector<double> mean;
    int64_t iterations = 0;
    std::map<std::string, std::vector<double>> counters;
  };
  static double Median(std::vector<double> v) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }
  std::map<std::string, Result> results_;
  std::map<std::string, Raw> raw_;
};

// -------------------------------------------------------------- JSON output

// The report, built in the order it is written: a thin builder over
// nlohmann::ordered_json (the JSON library every writer in the project
// uses), so that the sections read top-down as they are filled.
class Json {
 public:
  // Opens an object ('{') or array ('[') under `key` (nullptr: in an array,
  // or the root); what follows goes into it until Close.
  void Open(const char* key, char brace) {
    stack_.push_back(Put(key, brace == '{' ? nlohmann::ordered_json::object()
                                           : nlohmann::ordered_json::array()));
  }
  void Close(char) { stack_.pop_back(); }
  // Whole numbers are written as integers; NaN and infinities as null.
  void Num(const char* key, double v) {
    if (!std::isfinite(v)) {
      Put(key, nullptr);
    } else if (v == std::floor(v) && std::fabs(v) < 1e15) {
      Put(key, static_cast<int64_t>(v));
    } else {
      Put(key, v);
    }
  }
  void Str(const char* key, const std::string& v) { Put(key, v); }
  void Bool(const char* key, bool v) { Put(key, v); }
  std::string str() const { return root_.dump(2) + "\n"; }

 private:
  // Adds `v` to the innermost open container and returns where it landed.
  // Only the innermost container grows, so the pointers held for the outer
  // ones stay valid.
  nlohmann::ordered_json* Put(const char* key, nlohmann::ordered_json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    nlohmann::ordered_json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(v));
      return &top.back();
    }
    top[key] = std::move(v);
    return &top[key];
  }
  nlohmann::ordered_json root_;
  std::vector<nlohmann::ordered_json*> stack_;
};

void PutPercentiles(Json& j, const char* key, const Percentiles& p) {
  j.Open(key, '{');
  j.Num("samples", static_cast<double>(p.n));
  j.Num("p50_ns", p.p50);
  j.Num("p90_ns", p.p90);
  j.Num("p99_ns", p.p99);
  j.Num("p999_ns", p.p999);
  j.Num("min_ns", p.min);
  j.Num("max_ns", p.max);
  j.Num("mean_ns", p.mean);
  j.Close('}');
}

// The value of the first /proc/cpuinfo line whose key is @key.
std::string CpuInfo(const std::string& key) {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    size_t c = line.find(':');
    if (c == std::string::npos) continue;
    std::string k = line.substr(0, c);
    while (!k.empty() && (k.back() == ' ' || k.back() == '\t')) k.pop_back();
    if (k == key) return c + 2 <= line.size() ? line.substr(c + 2) : "";
  }
  return "unknown";
}

std::string CpuModel() {
  return CpuInfo("model name") + " (family " + CpuInfo("cpu family") + ", model " +
         CpuInfo("model") + ", stepping " + CpuInfo("stepping") + ")";
}

bool Virtualized() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("flags", 0) == 0) return line.find(" hypervisor") != std::string::npos;
  }
  return false;
}

std::string UtcNow() {
  time_t t = time(nullptr);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// ------------------------------------------------------------------- main

bool ParseInt(const char* arg, const char* name, int* out) {
  size_t n = strlen(name);
  if (strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  *out = atoi(arg + n + 1);
  return true;
}

void Usage() {
  fprintf(stderr,
          "usage: micro_bench [--smoke] [--out=PATH] [--producer-cpu=N] [--consumer-cpu=N]\n"
          "                   [--messages=N] [--repetitions=N]\n"
          "Runs ghost_hybrid's ABI microbenchmarks (needs root) and writes JSON to PATH\n"
          "(default bench/results/micro.json; --smoke: a few seconds, small counts).\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    if (!strcmp(a, "--smoke")) {
      opt.smoke = true;
    } else if (!strncmp(a, "--out=", 6)) {
      opt.out = a + 6;
    } else if (!strncmp(a, "--benchmark_", 12)) {
      opt.gbench_flags.push_back(a);
    } else if (ParseInt(a, "--producer-cpu", &opt.producer_cpu) ||
               ParseInt(a, "--consumer-cpu", &opt.consumer_cpu) ||
               ParseInt(a, "--messages", &opt.messages) ||
               ParseInt(a, "--repetitions", &opt.repetitions)) {
    } else {
      Usage();
      return 2;
    }
  }
  if (opt.out.empty()) opt.out = "bench/results/micro.json";
  if (opt.messages <= 0) opt.messages = opt.smoke ? 3000 : 300000;
  opt.warmup = opt.smoke ? 200 : 5000;
  if (opt.repetitions <= 0) opt.repetitions = opt.smoke ? 1 : 5;
  opt.min_time = opt.smoke ? 0.01 : 0.25;
  const int ncpu = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  if (opt.producer_cpu == opt.consumer_cpu || opt.producer_cpu < 0 || opt.consumer_cpu < 0 ||
      opt.producer_cpu >= ncpu || opt.consumer_cpu >= ncpu) {
    fprintf(stderr, "micro_bench: need two distinct online CPUs (have %d; producer %d, consumer %d)\n",
            ncpu, opt.producer_cpu, opt.consumer_cpu);
    return 1;
  }
  if (geteuid() != 0) {
    fprintf(stderr, "micro_bench: must run as root (it loads BPF programs)\n");
    return 1;
  }
  const std::string loadavg_start = ReadFile("/proc/loadavg");
  const std::string date = UtcNow();

  std::unique_ptr<Bench> bench = Setup(opt);
  if (!bench) return 1;
  g_bench = bench.get();
  if (!PinTo(opt.producer_cpu)) {
    fprintf(stderr, "micro_bench: cannot pin to CPU %d\n", opt.producer_cpu);
    return 1;
  }

  // 1. Message delivery (dedicated loop) and its reference.
  const bool profiling = !opt.gbench_flags.empty();
  DeliveryResult dr, exp_base, exp_overlap;
  if (!profiling) {
    const int rounds = opt.smoke ? 1 : 6;
    fprintf(stderr, "micro_bench: message delivery, %d messages in %d round(s) (+%d warm-up each), "
            "CPU %d -> CPU %d\n", opt.messages, rounds, opt.warmup, opt.producer_cpu,
            opt.consumer_cpu);
    for (int i = 0; i < rounds && !g_failed; i++) {
      DeliveryResult r = RunDelivery(*bench, *bench->channel, opt.messages / rounds, opt.warmup);
      Pool(dr, r);
      fprintf(stderr, "  round %d: delivery p50 %.0f ns, floor p50 %.0f ns\n", i + 1,
              r.latency.p50, r.reference.p50);
    }
    if (dr.lost) Fail("%" PRIu64 " messages never reached the consumer", dr.lost);
    if (dr.seq_errors) Fail("%" PRIu64 " messages out of Tseq order", dr.seq_errors);
    if (dr.barrier_errors) Fail("%" PRIu64 " messages ahead of their status word", dr.barrier_errors);
    if (dr.aseq_errors) Fail("the agent's Aseq did not advance once per message");
    if (dr.stats_dropped) Fail("%" PRIu64 " messages dropped", dr.stats_dropped);
    // Experiment: rounds alternating the project's consumer and the
    // overlapped variant, so that both see the same vCPU placement.
    OverlapReader overlap;
    if (!overlap.Open(bpf_map__fd(bench->skel->maps.default_channel))) {
      Fail("cannot map the channel for the overlap experiment");
    }
    for (int i = 0; i < (opt.smoke ? 1 : 3) && !g_failed; i++) {
      int n = opt.smoke ? opt.messages : opt.messages / 6;
      DeliveryResult a = RunDelivery(*bench, *bench->channel, n, opt.warmup);
      DeliveryResult e = RunDelivery(*bench, overlap, n, opt.warmup);
      Pool(exp_base, a);
      Pool(exp_overlap, e);
      fprintf(stderr, "  experiment %d: RingChannel p50 %.0f ns, overlapped Peek p50 %.0f ns "
              "(floor %.0f / %.0f ns)\n", i + 1, a.latency.p50, e.latency.p50,
              a.reference.p50, e.reference.p50);
    }
    if (exp_base.seq_errors + exp_overlap.seq_errors + exp_base.barrier_errors +
        exp_overlap.barrier_errors + exp_base.lost + exp_overlap.lost) {
      Fail("the overlap experiment lost or misordered messages");
    }
    fprintf(stderr, "  delivery p50 %.0f ns p99 %.0f ns p99.9 %.0f ns; send syscall p50 %.0f ns; "
            "C++ cache-line floor p50 %.0f ns; paired overhead p50 %.0f ns\n",
            dr.latency.p50, dr.latency.p99, dr.latency.p999, dr.send_syscall.p50,
            dr.reference.p50, dr.overhead.p50);
  }

  // 2. Google Benchmark: costs.
  g_timer_ns = MeasureTimerOverhead();
  const double probe_before = FloorProbe(opt, 20000);
  // Manual-time benchmarks whose untimed part dominates run a fixed number
  // of iterations (MinTime would count only the timed part).
  auto reg = [&](const char* name, void (*fn)(benchmark::State&), int64_t iterations = 0) {
    benchmark::internal::Benchmark* bm = benchmark::RegisterBenchmark(name, fn);
    bm->Unit(benchmark::kNanosecond)->Repetitions(opt.repetitions)->UseManualTime();
    if (iterations) {
      bm->Iterations(opt.smoke ? std::max<int64_t>(1, iterations / 20) : iterations);
    } else {
      bm->MinTime(opt.min_time);
    }
    return bm;
  };
  reg("prog_run_nop", BM_ProgRunNop);
  reg("send/syscall_caught_up", BM_SendCaughtUp);
  reg("send/syscall_backlog", BM_SendBacklog);
  reg("send/in_bpf", BM_SendInBpf, 4000);
  reg("send/task_channel_in_bpf", BM_TaskChannelInBpf, 4000);
  reg("ringbuf_submit/flags_0", BM_RingbufSubmit)->Arg(0);
  reg("ringbuf_submit/no_wakeup", BM_RingbufSubmit)->Arg(1);
  reg("status_word/barrier_hot", BM_StatusWordBarrierHot, 20000);
  reg("status_word/stale_check_hot", BM_StatusWordStaleCheckHot, 20000);
  reg("status_word/remote_modified_1", BM_StatusWordRemoteModified, 40000)->Arg(1);
  reg("status_word/remote_modified_64", BM_StatusWordRemoteModified, 10000)->Arg(64);

  std::vector<std::string> gb_args = {argv[0]};
  for (const std::string& f : opt.gbench_flags) gb_args.push_back(f);
  // Repetitions of different benchmarks interleaved: host drift during the
  // run then hits every benchmark alike (e.g. both ringbuf_submit variants,
  // whose difference is reported).
  if (!opt.smoke && !profiling) gb_args.push_back("--benchmark_enable_random_interleaving=true");
  std::vector<char*> gb_argv;
  for (auto& s : gb_args) gb_argv.push_back(s.data());
  int gb_argc = static_cast<int>(gb_argv.size());
  benchmark::Initialize(&gb_argc, gb_argv.data());
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::map<std::string, CollectingReporter::Result> res = reporter.Finish();
  for (const auto& [name, r] : res) {
    if (r.error) Fail("%s: %s", name.c_str(), r.error_message.c_str());
  }
  if (profiling) return g_failed ? 1 : 0;
  const double probe_after = FloorProbe(opt, 20000);
  // The per-sample median of a benchmark (median over repetitions).
  auto val = [&](const std::string& name, const char* q = "p50_ns") -> double {
    auto it = res.find(name);
    if (it == res.end() || it->second.error || !it->second.counters.count(q)) {
      Fail("no result for %s", name.c_str());
      return NAN;
    }
    return it->second.counters[q];
  };

  const double nop = val("prog_run_nop");
  const double p50_target = 300;
  const bool p50_met = dr.latency.p50 <= p50_target;

  // 3. JSON.
  struct utsname un;
  uname(&un);
  Json j;
  j.Open(nullptr, '{');
  j.Str("benchmark", "ghost_hybrid ABI microbenchmarks (bench/micro)");
  j.Num("schema_version", 2);  // 2: the commit section and target removed
  j.Str("mode", opt.smoke ? "smoke" : "full");
  j.Str("date_utc", date);
  j.Bool("ok", !g_failed);
  j.Open("host", '{');
  j.Str("cpu_model", CpuModel());
  j.Num("online_cpus", ncpu);
  j.Bool("virtualized", Virtualized());
  j.Str("kernel_release", un.release);
  j.Str("kernel_version", un.version);
  j.Bool("sched_ext", access("/sys/kernel/sched_ext", F_OK) == 0);
  j.Str("clocksource", ReadFile("/sys/devices/system/clocksource/clocksource0/current_clocksource"));
  j.Str("loadavg_at_start", loadavg_start);
  j.Str("loadavg_at_end", ReadFile("/proc/loadavg"));
  j.Open("cross_cpu_floor_p50_ns", '{');
  j.Num("during_delivery", dr.reference.p50);
  j.Num("before_costs", probe_before);
  j.Num("after_costs", probe_after);
  j.Str("note", "one-way hand-off of a stamp between the two benchmark CPUs (a single C++ "
        "store seen by a spinner): on a VM it moves with the vCPUs' placement on the host "
        "and bounds message delivery and remote status-word reads");
  j.Close('}');
  j.Close('}');
  j.Open("harness", '{');
  j.Str("name", "Google Benchmark (costs) + a dedicated producer/consumer loop (delivery percentiles)");
  j.Str("google_benchmark_version", "1.7.1");
  j.Num("repetitions", opt.repetitions);
  j.Num("min_time_s", opt.min_time);
  j.Str("order", opt.smoke ? "each benchmark's repetitions in a row"
                           : "repetitions of all benchmarks randomly interleaved");
  j.Str("statistic", "costs: median of per-iteration samples (each timed with clock_gettime, "
        "the timer's own median cost subtracted), then the median over repetitions; "
        "delivery: nearest-rank percentiles of every message");
  j.Num("timer_overhead_ns", g_timer_ns);
  j.Num("producer_cpu", opt.producer_cpu);
  j.Num("consumer_cpu", opt.consumer_cpu);
  j.Str("bpf_object", "bench/micro/micro.bpf.c: the bpf/ headers included unchanged; "
        "gh_commit and gh_rq_op (sched_ext DSQ moves) not loaded");
  j.Str("consumer", "gh::RingChannel (agent/kernel/ring_channel.cc) Peek/Consume, spinning");
  j.Close('}');
  j.Open("exclusions", '[');
  j.Str(nullptr, "message send: the task_ctx is found with an array-map lookup where the "
        "scheduler calls bpf_task_storage_get (not callable from syscall programs); everything "
        "from the Tseq bump to the Aseq bump is the unchanged messages.bpf.h code");
  j.Str(nullptr, "commit: latched commits move the task between sched_ext DSQs inside gh_commit, "
        "which only a kernel running the scheduler can do, so the commit cost is not measured on "
        "the host (the guest exercises it: tests/guest/latched_commit_test.cc)");
  j.Close(']');

  j.Open("message_delivery", '{');
  j.Str("what", "bpf_ktime_get_ns() stamp written by messages.bpf.h (task_msg_begin) -> "
        "CLOCK_MONOTONIC read by the consumer right after RingChannel::Peek() returns the "
        "record; one event in flight, 0-1 us random gap between events");
  j.Num("warmup_messages_per_round", opt.warmup);
  j.Open("rounds", '[');
  for (const auto& [lat_p50, floor_p50] : dr.rounds) {
    j.Open(nullptr, '{');
    j.Num("p50_ns", lat_p50);
    j.Num("floor_p50_ns", floor_p50);
    j.Close('}');
  }
  j.Close(']');
  PutPercentiles(j, "latency", dr.latency);
  PutPercentiles(j, "producer_send_syscall", dr.send_syscall);
  j.Open("checks", '{');
  j.Num("lost", static_cast<double>(dr.lost));
  j.Num("dropped", static_cast<double>(dr.stats_dropped));
  j.Num("tseq_order_errors", static_cast<double>(dr.seq_errors));
  j.Num("status_word_behind_message", static_cast<double>(dr.barrier_errors));
  j.Bool("aseq_advanced_per_message", dr.aseq_errors == 0);
  j.Close('}');
  PutPercentiles(j, "floor_cpp_cache_line_one_way", dr.reference);
  PutPercentiles(j, "overhead_over_floor_paired", dr.overhead);
  j.Open("by_consumer_view", '{');
  j.Str("note", "seen_reserved: the consumer saw the record reserved (producer position "
        "advanced, header BUSY) before the submit, so only the header line moved after the "
        "stamp; not_seen: it found the position and the header changed together");
  j.Num("seen_reserved_fraction",
        dr.lat_raw.empty() ? 0 : static_cast<double>(dr.lat_seen_reserved.size()) / dr.lat_raw.size());
  PutPercentiles(j, "seen_reserved", Summarize(dr.lat_seen_reserved));
  PutPercentiles(j, "not_seen", Summarize(dr.lat_not_seen));
  j.Close('}');
  j.Open("experiment_overlapped_peek", '{');
  j.Str("note", "NOT the project's consumer: alternating rounds of RingChannel::Peek and a "
        "bench-only variant that loads the producer position and the next record header "
        "before branching, so that their cache misses can overlap (see micro_bench.cc, "
        "OverlapReader)");
  j.Num("ring_channel_p50_ns", exp_base.latency.p50);
  j.Num("ring_channel_p99_ns", exp_base.latency.p99);
  j.Num("overlapped_p50_ns", exp_overlap.latency.p50);
  j.Num("overlapped_p99_ns", exp_overlap.latency.p99);
  j.Num("floor_p50_ns_during_ring_channel", exp_base.reference.p50);
  j.Num("floor_p50_ns_during_overlapped", exp_overlap.reference.p50);
  j.Close('}');
  j.Str("floor_note", "floor: a single C++ store of a CLOCK_MONOTONIC stamp seen by the same "
        "spinning consumer, interleaved 1:1 with the BPF messages; overhead: each message's "
        "latency minus the adjacent floor sample (signed)");
  j.Close('}');

  j.Open("message_send_cost", '{');
  j.Num("in_bpf_per_msg_ns", val("send/in_bpf"));
  j.Num("syscall_per_send_caught_up_ns", val("send/syscall_caught_up"));
  j.Num("syscall_per_send_backlog_ns", val("send/syscall_backlog"));
  j.Num("empty_prog_syscall_ns", nop);
  j.Num("send_caught_up_minus_empty_ns", val("send/syscall_caught_up") - nop);
  j.Num("send_backlog_minus_empty_ns", val("send/syscall_backlog") - nop);
  j.Num("task_channel_lookup_in_bpf_ns", val("send/task_channel_in_bpf"));
  j.Num("bare_ringbuf_submit_flags_0_ns", val("ringbuf_submit/flags_0/0"));
  j.Num("bare_ringbuf_submit_no_wakeup_ns", val("ringbuf_submit/no_wakeup/1"));
  j.Num("wakeup_irq_work_cost_ns", val("ringbuf_submit/flags_0/0") - val("ringbuf_submit/no_wakeup/1"));
  j.Str("note", "caught_up: consumer position == record (a spinning agent), so "
        "bpf_ringbuf_submit(msg, 0) in msg_submit() queues its wakeup irq_work (a self-IPI) "
        "for every message; backlog: it does not. in_bpf: 256 back-to-back sends timed inside "
        "BPF, per message. bare_ringbuf_submit_*: a bench-only reserve+submit, caught up, "
        "with flags 0 vs BPF_RB_NO_WAKEUP: their difference is the wakeup's price. "
        "task_channel_lookup: task_seq_next, the one atomic add that gives a send its Tseq and "
        "its channel (it replaced a task_chan hash lookup)");
  j.Close('}');

  j.Open("status_word_read", '{');
  j.Str("what", "gh::StatusWord over the mmapped task_sw map (agent/lib/status_word.h)");
  j.Num("barrier_hot_ns", val("status_word/barrier_hot"));
  j.Num("stale_check_and_flags_hot_ns", val("status_word/stale_check_hot"));
  j.Num("remote_modified_single_ns", val("status_word/remote_modified_1/1"));
  j.Num("remote_modified_scan64_per_word_ns", val("status_word/remote_modified_64/64"));
  j.Str("note", "hot: L1 hit, the word unchanged since the last read (an acquire load is a "
        "plain mov on x86); remote_modified: the other CPU has just bumped the barrier "
        "with an atomic add (as BPF bumps Tseq), so the read misses to its cache; "
        "single: one word, timer overhead subtracted; scan64: 64 words on distinct "
        "lines read in a row (misses overlap), per word");
  j.Close('}');

  j.Open("targets", '[');
  j.Open(nullptr, '{');
  j.Str("name", "native message delivery p50 <= 300 ns (ghOSt: ~265 ns to a spinning global agent)");
  j.Num("value_ns", dr.latency.p50);
  j.Num("limit_ns", p50_target);
  j.Num("ratio_to_limit", dr.latency.p50 / p50_target);
  j.Bool("met", p50_met);
  j.Close('}');
  j.Close(']');

  j.Open("google_benchmark", '{');
  for (const auto& [name, r] : res) {
    j.Open(name.c_str(), '{');
    for (const auto& [k, v] : r.counters) j.Num(k.c_str(), v);
    j.Num("gbench_mean_ns", r.mean_ns);
    j.Num("iterations", static_cast<double>(r.iterations));
    j.Num("repetitions", r.repetitions);
    if (r.error) j.Str("error", r.error_message);
    j.Close('}');
  }
  j.Close('}');
  j.Close('}');

  std::string path = opt.out;
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    f << j.str();
    if (!f) {
      fprintf(stderr, "micro_bench: cannot write %s\n", tmp.c_str());
      return 1;
    }
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    fprintf(stderr, "micro_bench: cannot write %s: %s\n", path.c_str(), strerror(errno));
    return 1;
  }
  fprintf(stderr,
          "micro_bench: wrote %s\n"
          "  delivery p50 %.0f ns (target <= 300: %s, ratio %.2f)\n",
          path.c_str(), dr.latency.p50, p50_met ? "met" : "MISSED", dr.latency.p50 / p50_target);
  if (g_failed) {
    fprintf(stderr, "micro_bench: FAILED (see above)\n");
    return 1;
  }
  return 0;
}
