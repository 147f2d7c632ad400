// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/workload.h"

#include <sched.h>

#include <algorithm>

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/kernel/task_policy.h"

namespace gh {

absl::StatusOr<std::optional<Credentials>> ResolveWorkloadUser(const std::string& user_flag) {
  std::string name = user_flag;
  if (name.empty()) {
    const char* sudo_user = getenv("SUDO_USER");
    if (!sudo_user || !*sudo_user || geteuid() != 0) return std::optional<Credentials>();
    name = sudo_user;
  }
  struct passwd* pw = getpwnam(name.c_str());
  if (!pw) {
    return absl::InvalidArgumentError(
        absl::StrCat("no such user '", name, "': pass an existing user to --user."));
  }
  return std::optional<Credentials>(Credentials{pw->pw_uid, pw->pw_gid, pw->pw_name});
}

namespace {

[[noreturn]] void ChildFail(int report_fd, int err) {
  if (write(report_fd, &err, sizeof(err)) != sizeof(err)) {
    // Nothing more we can do; the exit status tells the rest.
  }
  _exit(127);
}

}  // namespace

absl::StatusOr<pid_t> StartWorkload(const std::vector<std::string>& argv,
                                    const std::optional<Credentials>& creds,
                                    const std::vector<int>& cpus) {
  if (argv.empty()) return absl::InvalidArgumentError("no command given after '--'.");
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (cpus.empty() || std::find(cpus.begin(), cpus.end(), cpu) != cpus.end()) {
      CPU_SET(cpu, &allowed);
    }
  }
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");
  pid_t pid = fork();
  if (pid < 0) return absl::ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    close(report[0]);
    // Keep stdio and the report pipe; everything else goes.
    int fd = fcntl(report[1], F_DUPFD_CLOEXEC, 3);
    if (fd != 3) {
      dup2(fd, 3);
      fcntl(3, F_SETFD, FD_CLOEXEC);
    }
    syscall(SYS_close_range, 4, ~0u, 0);
    // The enclave, not ghost_hybrid's own affinity (taskset on the command
    // line keeps the loader off the enclave, not the workload).
    if (sched_setaffinity(0, sizeof(allowed), &allowed) != 0) ChildFail(3, errno);
    if (!SetSchedExt(0).ok()) ChildFail(3, errno ? errno : EPERM);
    if (creds) {
      if (initgroups(creds->name.c_str(), creds->gid) != 0 || setgid(creds->gid) != 0 ||
          setuid(creds->uid) != 0) {
        ChildFail(3, errno);
      }
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    ChildFail(3, errno);
  }
  close(report[1]);
  int err = 0;
  ssize_t n = read(report[0], &err, sizeof(err));
  close(report[0]);
  if (n == sizeof(err)) {
    waitpid(pid, nullptr, 0);
    if (err == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat("command not found: ", argv[0], ": check the name or give its full path."));
    }
    return absl::ErrnoToStatus(err, absl::StrCat("cannot start ", argv[0]));
  }
  return pid;
}

absl::StatusOr<int> AdoptProcess(pid_t pid) {
  std::string dir = absl::StrCat("/proc/", pid, "/task");
  DIR* d = opendir(dir.c_str());
  if (!d) {
    return absl::NotFoundError(
        absl::StrCat("no process with pid ", pid, ": check the --pid value."));
  }
  int n = 0;
  absl::Status last = absl::OkStatus();
  while (struct dirent* e = readdir(d)) {
    int tid;
    if (!absl::SimpleAtoi(e->d_name, &tid)) continue;
    absl::Status s = SetSchedExt(tid);
    if (s.ok()) {
      n++;
    } else {
      last = s;
    }
  }
  closedir(d);
  if (n == 0) return last.ok() ? absl::NotFoundError("process has no threads") : last;
  return n;
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

}  // namespace gh
