// SPDX-License-Identifier: Apache-2.0
// churn: the soak workload. For --duration seconds it runs, all at once,
// the kinds of task a scheduler meets under load:
//
//   hog          CPU-bound threads (one per CPU, plus one pinned to each CPU)
//   fork_exec    a loop that forks, execs this binary as a child that
//                computes a checksum and exits with it, and checks the status
//   sleeper      threads that sleep on timers (1-4 ms) and wake
//   pipe_pair    two processes that pass a counter back and forth on pipes
//   futex_pair   two threads that take turns through a futex word
//   mover        a CPU-bound thread that changes its affinity and nice value
//                every 20 ms and checks that each change took
//
// Everything it does is fixed by the flags, and every worker reports a count
// and checks its own results (a checksum, a counter that must come back
// incremented, an exit status, an affinity read back), so a task that was
// lost, stuck or run wrongly shows. Each worker also stamps the time at
// every step: a hog's steps are short (well under a millisecond), so the
// longest gap between two of them is about the longest it waited runnable
// for a CPU ("max_cpu_wait_ms", over all hogs), which must stay far below
// sched_ext's watchdog.
//
// Prints one summary line per kind and writes --json; exits 0 iff every
// worker made progress and every check passed.
#include <fcntl.h>
#include <pthread.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

std::atomic<bool> g_stop{false};

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// The checksum every hog step and every fork_exec child computes: n rounds
// of xorshift64 from a fixed seed.
uint64_t Checksum(uint64_t seed, int rounds) {
  uint64_t x = seed | 1;
  for (int i = 0; i < rounds; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

// One worker's record: what it did, what went wrong, how long it waited at
// worst between two steps.
struct Worker {
  std::string kind;
  int id = 0;
  uint64_t count = 0;   // steps done
  uint64_t errors = 0;  // checks that failed
  int64_t last_ns = 0;
  int64_t max_gap_ns = 0;
  std::string first_error;

  void Step() {
    const int64_t now = NowNs();
    if (last_ns) max_gap_ns = std::max(max_gap_ns, now - last_ns);
    last_ns = now;
    count++;
  }
  void Error(const std::string& what) {
    if (!errors++) first_error = what;
  }
};

void Hog(Worker* w, int pin_cpu) {
  if (pin_cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(pin_cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set)) w->Error("sched_setaffinity");
  }
  w->Step();
  while (!g_stop.load(std::memory_order_relaxed)) {
    // About 0.1 ms of work per step in the guest; checked against a
    // second computation so that a corrupted run shows.
    const uint64_t seed = w->count * 2654435761u + w->id;
    if (Checksum(seed, 20000) != Checksum(seed, 20000)) w->Error("checksum");
    w->Step();
  }
}

// The child side of fork_exec: argv = churn --child N; exits with a byte of
// the checksum of N.
int ChildMain(int n) { return static_cast<int>(Checksum(n, 5000) & 0x7f); }

void ForkExec(Worker* w, const char* self) {
  w->Step();
  for (int n = 1; !g_stop.load(std::memory_order_relaxed); n++) {
    const std::string arg = std::to_string(n);
    const pid_t pid = fork();
    if (pid == 0) {
      execl(self, self, "--child", arg.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    if (pid < 0) {
      w->Error("fork");
      continue;
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != ChildMain(n)) {
      w->Error("child " + arg + " status " + std::to_string(status));
    }
    w->Step();
  }
}

void Sleeper(Worker* w) {
  w->Step();
  for (int i = 0; !g_stop.load(std::memory_order_relaxed); i++) {
    const int64_t want = (1 + (w->id + i) % 4) * 1000000LL;
    timespec ts = {0, static_cast<long>(want)};
    const int64_t t0 = NowNs();
    nanosleep(&ts, nullptr);
    if (NowNs() - t0 < want) w->Error("woke early");
    w->Step();
  }
}

// Two processes; the parent sends k, the child answers k + 1. The parent
// checks every answer. Runs as processes so that they are separate tasks
// with their own mm, as a shell pipeline would be.
void PipePair(Worker* w) {
  int down[2], up[2];
  // O_CLOEXEC: fork_exec's children must not hold them open.
  if (pipe2(down, O_CLOEXEC) || pipe2(up, O_CLOEXEC)) {
    w->Error("pipe");
    return;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    close(down[1]);  // read() sees the end when the parent closes its end
    close(up[0]);
    uint64_t k;
    while (read(down[0], &k, sizeof(k)) == sizeof(k)) {
      k++;
      if (write(up[1], &k, sizeof(k)) != sizeof(k)) break;
    }
    _exit(0);
  }
  close(down[0]);
  close(up[1]);
  w->Step();
  for (uint64_t k = 0; !g_stop.load(std::memory_order_relaxed); k += 2) {
    uint64_t back = 0;
    if (write(down[1], &k, sizeof(k)) != sizeof(k) ||
        read(up[0], &back, sizeof(back)) != sizeof(back)) {
      w->Error("pipe broke");
      break;
    }
    if (back != k + 1) w->Error("pipe answer");
    w->Step();
  }
  close(down[1]);
  int status;
  waitpid(pid, &status, 0);
  close(up[0]);
}

long Futex(std::atomic<uint32_t>* word, int op, uint32_t val) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, val, nullptr, nullptr, 0);
}

// Two threads take turns: a thread whose turn it is (turn % 2 == side)
// advances turn and wakes the other. The word only ever grows by one per
// turn, so each side sees every value of its parity in order.
void FutexSide(Worker* w, std::atomic<uint32_t>* turn, int side) {
  uint32_t expect = side;
  w->Step();
  while (!g_stop.load(std::memory_order_relaxed)) {
    uint32_t t = turn->load();
    if (t % 2 != static_cast<uint32_t>(side)) {
      // 10 ms timeout: the other side may have stopped.
      timespec to = {0, 10000000};
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(turn), FUTEX_WAIT_PRIVATE, t, &to,
              nullptr, 0);
      continue;
    }
    if (t != expect) w->Error("futex turn " + std::to_string(t));
    turn->store(t + 1);
    Futex(turn, FUTEX_WAKE_PRIVATE, 1);
    expect = t + 2;
    w->Step();
  }
  Futex(turn, FUTEX_WAKE_PRIVATE, 1);  // a waiting partner sees the end
}

// CPU-bound, changing its affinity (to one CPU, then to all, in turn) and
// its nice value (0, 3, 6, ... wrapping) every 20 ms, reading each back.
void Mover(Worker* w, int ncpu) {
  w->Step();
  int64_t next = NowNs();
  for (int i = 0; !g_stop.load(std::memory_order_relaxed); i++) {
    cpu_set_t set, got;
    CPU_ZERO(&set);
    if (i % 2) {
      for (int c = 0; c < ncpu; c++) CPU_SET(c, &set);
    } else {
      CPU_SET((i / 2) % ncpu, &set);
    }
    if (sched_setaffinity(0, sizeof(set), &set) || sched_getaffinity(0, sizeof(got), &got) ||
        !CPU_EQUAL(&set, &got)) {
      w->Error("affinity");
    }
    const int nice = (i * 3) % 9;
    if (setpriority(PRIO_PROCESS, 0, nice) == 0) {
      errno = 0;
      if (getpriority(PRIO_PROCESS, 0) != nice || errno) w->Error("nice read back");
    } else if (errno != EACCES && errno != EPERM) {
      w->Error("setpriority");
    }
    next += 20000000;
    while (NowNs() < next && !g_stop.load(std::memory_order_relaxed)) {
      (void)Checksum(i, 2000);
    }
    w->Step();
  }
}

int Usage() {
  std::fprintf(stderr, "usage: churn [--duration=SECONDS] [--json=FILE]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--child") == 0) return ChildMain(std::atoi(argv[2]));
  int duration_s = 20;
  std::string json;
  for (int i = 1; i < argc; i++) {
    if (std::strncmp(argv[i], "--duration=", 11) == 0) {
      duration_s = std::atoi(argv[i] + 11);
      if (duration_s <= 0 || duration_s > 86400) return Usage();
    } else if (std::strncmp(argv[i], "--json=", 7) == 0) {
      json = argv[i] + 7;
    } else {
      return Usage();
    }
  }
  cpu_set_t all;
  CPU_ZERO(&all);
  sched_getaffinity(0, sizeof(all), &all);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &all)) cpus.push_back(c);
  const int ncpu = static_cast<int>(cpus.size());
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0) return 1;
  self[len] = '\0';

  // Workers are created up front; none is added or removed while running.
  std::vector<Worker> w;
  auto add = [&](const char* kind, int id) {
    Worker x;
    x.kind = kind;
    x.id = id;
    w.push_back(x);
  };
  for (int i = 0; i < ncpu; i++) add("hog", i);
  for (int i = 0; i < ncpu; i++) add("pinned_hog", cpus[i]);
  add("fork_exec", 0);
  for (int i = 0; i < 4; i++) add("sleeper", i);
  add("pipe_pair", 0);
  add("futex_pair", 0);
  add("futex_pair", 1);
  add("mover", 0);

  std::atomic<uint32_t> turn{0};
  std::vector<std::thread> threads;
  const int64_t start = NowNs();
  for (Worker& x : w) {
    // Each thread is named after its worker (kind and id, at most 15
    // characters), so that a kernel exit dump or `ps -T` names it.
    auto named = [&x](auto fn, auto... args) {
      return std::thread([&x, fn, args...] {
        const std::string name = x.kind.substr(0, 12) + std::to_string(x.id);
        pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
        fn(&x, args...);
      });
    };
    if (x.kind == "hog") threads.push_back(named(Hog, -1));
    if (x.kind == "pinned_hog") threads.push_back(named(Hog, x.id));
    if (x.kind == "fork_exec") threads.push_back(named(ForkExec, static_cast<const char*>(self)));
    if (x.kind == "sleeper") threads.push_back(named(Sleeper));
    if (x.kind == "pipe_pair") threads.push_back(named(PipePair));
    if (x.kind == "futex_pair") threads.push_back(named(FutexSide, &turn, x.id));
    if (x.kind == "mover") threads.push_back(named(Mover, ncpu));
  }
  timespec ts = {duration_s, 0};
  while (nanosleep(&ts, &ts) && errno == EINTR) {
  }
  g_stop = true;
  for (std::thread& t : threads) t.join();
  const double secs = (NowNs() - start) / 1e9;

  // The summary: every failure, then per kind the steps and worst gap.
  bool ok = true;
  nlohmann::json workers = nlohmann::json::array();
  for (const Worker& x : w) {
    const bool progressed = x.count >= 2;
    ok = ok && progressed && !x.errors;
    if (!progressed) std::printf("churn: FAIL %s %d made no progress\n", x.kind.c_str(), x.id);
    if (x.errors) {
      std::printf("churn: FAIL %s %d: %lu errors, first: %s\n", x.kind.c_str(), x.id,
                  static_cast<unsigned long>(x.errors), x.first_error.c_str());
    }
    workers.push_back({{"kind", x.kind}, {"id", x.id}, {"count", x.count},
                       {"errors", x.errors}, {"max_gap_ms", x.max_gap_ns / 1e6}});
  }
  int64_t max_cpu_gap = 0;
  for (const char* k : {"hog", "pinned_hog", "fork_exec", "sleeper", "pipe_pair", "futex_pair",
                        "mover"}) {
    uint64_t n = 0;
    int64_t gap = 0;
    for (const Worker& x : w) {
      if (x.kind != k) continue;
      n += x.count;
      gap = std::max(gap, x.max_gap_ns);
    }
    const std::string kind = k;
    if (kind == "hog" || kind == "pinned_hog") max_cpu_gap = std::max(max_cpu_gap, gap);
    std::printf("churn: %-10s %10lu steps  max gap %8.1f ms\n", k, static_cast<unsigned long>(n),
                gap / 1e6);
  }
  std::printf("churn: %s after %.1f s; longest a CPU-bound worker waited: %.1f ms\n",
              ok ? "ok" : "FAILED", secs, max_cpu_gap / 1e6);
  if (!json.empty()) {
    const nlohmann::json j = {{"ok", ok}, {"seconds", secs}, {"cpus", ncpu},
                              {"max_cpu_wait_ms", max_cpu_gap / 1e6}, {"workers", workers}};
    FILE* f = std::fopen(json.c_str(), "w");
    const std::string text = j.dump(1) + "\n";
    if (!f || std::fwrite(text.data(), 1, text.size(), f) != text.size() || std::fclose(f)) {
      std::perror(json.c_str());
      return 1;
    }
  }
  return ok ? 0 : 1;
}
