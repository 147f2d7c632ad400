// SPDX-License-Identifier: Apache-2.0
// check.h: fatal invariant checks for the agent library.
//
// Debian bookworm's Abseil (20220623) has no absl/log, so this header gives
// the few CHECK macros the library needs. A failed check prints
// "file:line: check failed: <expr> (<values>)" to stderr and aborts: agent
// invariants are never recoverable, and an abort makes the kernel side fall
// back to the fair class (no task is lost).
//
// Thread safety: the macros only read their arguments.
#ifndef GHOST_HYBRID_AGENT_LIB_CHECK_H_
#define GHOST_HYBRID_AGENT_LIB_CHECK_H_

#include <sstream>
#include <string>
#include <type_traits>

namespace gh {
namespace internal {

[[noreturn]] void CheckFail(const char* file, int line, const char* expr,
                            const std::string& detail);

// Returns a printable form of a checked value (enums as integers).
template <typename T>
std::string CheckValue(const T& v) {
  std::ostringstream os;
  if constexpr (std::is_enum_v<T>) {
    os << static_cast<long long>(v);
  } else if constexpr (std::is_pointer_v<T> || std::is_null_pointer_v<T>) {
    os << static_cast<const void*>(v);
  } else if constexpr (std::is_arithmetic_v<T>) {
    os << +v;
  } else {
    os << "?";
  }
  return os.str();
}

}  // namespace internal
}  // namespace gh

#define GH_CHECK(cond)                                               \
  do {                                                               \
    if (__builtin_expect(!(cond), 0))                                \
      ::gh::internal::CheckFail(__FILE__, __LINE__, #cond, "");      \
  } while (0)

// Like GH_CHECK, with a message (a std::string or a C string).
#define GH_CHECK_MSG(cond, msg)                                      \
  do {                                                               \
    if (__builtin_expect(!(cond), 0))                                \
      ::gh::internal::CheckFail(__FILE__, __LINE__, #cond, (msg));   \
  } while (0)

#define GH_CHECK_OP_(a, op, b)                                               \
  do {                                                                       \
    const auto& gh_check_a_ = (a);                                           \
    const auto& gh_check_b_ = (b);                                           \
    if (__builtin_expect(!(gh_check_a_ op gh_check_b_), 0))                  \
      ::gh::internal::CheckFail(                                             \
          __FILE__, __LINE__, #a " " #op " " #b,                             \
          ::gh::internal::CheckValue(gh_check_a_) + " vs " +                 \
              ::gh::internal::CheckValue(gh_check_b_));                      \
  } while (0)

#define GH_CHECK_EQ(a, b) GH_CHECK_OP_(a, ==, b)
#define GH_CHECK_NE(a, b) GH_CHECK_OP_(a, !=, b)
#define GH_CHECK_LT(a, b) GH_CHECK_OP_(a, <, b)
#define GH_CHECK_LE(a, b) GH_CHECK_OP_(a, <=, b)
#define GH_CHECK_GT(a, b) GH_CHECK_OP_(a, >, b)
#define GH_CHECK_GE(a, b) GH_CHECK_OP_(a, >=, b)

#endif  // GHOST_HYBRID_AGENT_LIB_CHECK_H_
