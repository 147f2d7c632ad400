// SPDX-License-Identifier: Apache-2.0
#include "agent/lib/check.h"

#include <cstdio>
#include <cstdlib>

namespace gh {
namespace internal {

void CheckFail(const char* file, int line, const char* expr,
               const std::string& detail) {
  if (detail.empty()) {
    std::fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
  } else {
    std::fprintf(stderr, "%s:%d: check failed: %s (%s)\n", file, line, expr,
                 detail.c_str());
  }
  std::fflush(stderr);
  std::abort();
}

}  // namespace internal
}  // namespace gh
