// SPDX-License-Identifier: Apache-2.0
// wakebench: wake-to-run latency of threads woken by other threads.
//
// schbench's message/worker pattern reduced to its core: --pairs pairs of
// threads play ping-pong through futexes. A thread stamps CLOCK_MONOTONIC,
// wakes its partner (FUTEX_WAKE) and sleeps (FUTEX_WAIT) until woken back;
// the partner, once it runs, records now - stamp (the wake-to-run latency:
// the scheduler's part of a request handoff), spins --work-us of "request
// processing", and wakes the first one the same way. With more threads
// than CPUs, wakeups queue behind running work and the scheduler's choices
// show in the tail.
//
//   wakebench [--pairs=N] [--duration=SECONDS] [--work-us=US] [--hist=FILE]
//             [--mark-slow-us=US]
//
// Prints one line: "samples=N p50_us=.. p99_us=.. p999_us=.. max_us=..".
// --hist writes the latency histogram, "US COUNT" per non-empty 1 us bin
// (the format scripts/compare-latency.sh keeps for every workload).
// --mark-slow-us writes one line per sample above US into the kernel's
// trace (tracefs trace_marker): "wakebench_slow tid=T stamp=NS lat=NS",
// stamp on CLOCK_MONOTONIC, so that a trace taken with trace_clock "mono"
// shows what each slow hand-over waited for (bench/latency/tail_hops.py).
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// One direction of a ping-pong: the waker stamps and posts, the sleeper
// waits for the post and records the delay.
struct Mailbox {
  std::atomic<uint32_t> posted{0};
  std::atomic<int64_t> stamp{0};
};

std::atomic<bool> stop{false};
int64_t mark_slow_ns = -1;  // --mark-slow-us; -1: off
int trace_marker_fd = -1;

void Post(Mailbox& box) {
  box.stamp.store(NowNs(), std::memory_order_relaxed);
  box.posted.store(1, std::memory_order_release);
  syscall(SYS_futex, &box.posted, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

// Waits for a post; returns its wake-to-run latency, or -1 when stopping.
int64_t Wait(Mailbox& box) {
  while (box.posted.load(std::memory_order_acquire) == 0) {
    if (stop.load(std::memory_order_relaxed)) return -1;
    timespec timeout = {0, 100 * 1000 * 1000};  // recheck `stop` now and then
    syscall(SYS_futex, &box.posted, FUTEX_WAIT_PRIVATE, 0, &timeout, nullptr, 0);
  }
  int64_t latency = NowNs() - box.stamp.load(std::memory_order_relaxed);
  box.posted.store(0, std::memory_order_relaxed);
  return latency;
}

void Spin(int64_t ns) {
  const int64_t end = NowNs() + ns;
  while (NowNs() < end) {
  }
}

// One side of a pair: receive on @in, work, answer on @out.
void Player(Mailbox& in, Mailbox& out, bool serves_first, int64_t work_ns,
            std::vector<int64_t>* samples) {
  if (serves_first) Post(out);
  for (;;) {
    int64_t latency = Wait(in);
    if (latency < 0) return;
    samples->push_back(latency);
    if (mark_slow_ns >= 0 && latency > mark_slow_ns) {
      char line[96];
      const int n = snprintf(line, sizeof line, "wakebench_slow tid=%ld stamp=%lld lat=%lld\n",
                             static_cast<long>(syscall(SYS_gettid)),
                             static_cast<long long>(NowNs() - latency),
                             static_cast<long long>(latency));
      (void)!write(trace_marker_fd, line, n);
    }
    Spin(work_ns);
    Post(out);
  }
}

bool ParseFlag(const char* arg, const char* name, std::string* value) {
  size_t n = strlen(name);
  if (strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  *value = arg + n + 1;
  return true;
}

[[noreturn]] void Usage(const char* why) {
  fprintf(stderr,
          "wakebench: %s\nusage: wakebench [--pairs=N] [--duration=SECONDS] [--work-us=US] "
          "[--hist=FILE] [--mark-slow-us=US]\n",
          why);
  exit(2);
}

double Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * (sorted.size() - 1));
  return sorted[i] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  int pairs = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  double duration = 5;
  int64_t work_us = 50;
  std::string hist_path, v;
  for (int i = 1; i < argc; i++) {
    if (ParseFlag(argv[i], "--pairs", &v)) {
      pairs = atoi(v.c_str());
    } else if (ParseFlag(argv[i], "--duration", &v)) {
      duration = atof(v.c_str());
    } else if (ParseFlag(argv[i], "--work-us", &v)) {
      work_us = atoll(v.c_str());
    } else if (ParseFlag(argv[i], "--hist", &v)) {
      hist_path = v;
    } else if (ParseFlag(argv[i], "--mark-slow-us", &v)) {
      mark_slow_ns = atoll(v.c_str()) * 1000;
      if (mark_slow_ns < 0 || mark_slow_ns > 60'000'000'000LL) Usage("--mark-slow-us must be 0..60000000");
    } else {
      Usage((std::string("unknown argument '") + argv[i] + "'").c_str());
    }
  }
  if (pairs < 1 || pairs > 1024) Usage("--pairs must be 1..1024");
  if (!(duration > 0 && duration <= 3600)) Usage("--duration must be in (0, 3600] seconds");
  if (work_us < 0 || work_us > 1000000) Usage("--work-us must be 0..1000000");
  if (mark_slow_ns >= 0) {
    trace_marker_fd = open("/sys/kernel/tracing/trace_marker", O_WRONLY | O_CLOEXEC);
    if (trace_marker_fd < 0) {
      fprintf(stderr, "wakebench: --mark-slow-us needs /sys/kernel/tracing/trace_marker: %s "
              "(mount tracefs, run as root)\n", strerror(errno));
      return 2;
    }
  }

  std::vector<Mailbox> boxes(2 * pairs);
  std::vector<std::vector<int64_t>> samples(2 * pairs);
  for (auto& s : samples) s.reserve(1 << 16);
  std::vector<std::thread> threads;
  for (int p = 0; p < pairs; p++) {
    Mailbox& to_a = boxes[2 * p];
    Mailbox& to_b = boxes[2 * p + 1];
    threads.emplace_back(Player, std::ref(to_a), std::ref(to_b), true, work_us * 1000,
                         &samples[2 * p]);
    threads.emplace_back(Player, std::ref(to_b), std::ref(to_a), false, work_us * 1000,
                         &samples[2 * p + 1]);
  }
  usleep(static_cast<useconds_t>(duration * 1e6));
  stop.store(true);
  for (Mailbox& box : boxes) {
    syscall(SYS_futex, &box.posted, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  }
  for (std::thread& t : threads) t.join();

  std::vector<int64_t> all;
  for (const auto& s : samples) all.insert(all.end(), s.begin(), s.end());
  std::sort(all.begin(), all.end());
  if (!hist_path.empty()) {
    FILE* f = fopen(hist_path.c_str(), "w");
    if (!f) {
      fprintf(stderr, "wakebench: cannot write %s: %s\n", hist_path.c_str(), strerror(errno));
      return 1;
    }
    for (size_t i = 0; i < all.size();) {
      const long long us = all[i] / 1000;
      size_t j = i;
      while (j < all.size() && all[j] / 1000 == us) j++;
      fprintf(f, "%lld %zu\n", us, j - i);
      i = j;
    }
    fclose(f);
  }
  printf("samples=%zu p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f\n", all.size(),
         Percentile(all, 0.5), Percentile(all, 0.99), Percentile(all, 0.999),
         all.empty() ? 0.0 : all.back() / 1000.0);
  if (all.empty()) {
    fprintf(stderr, "wakebench: no wakeup completed in %.1f s\n", duration);
    return 1;
  }
  return 0;
}
