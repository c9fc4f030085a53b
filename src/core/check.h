#pragma once
// SY_CHECK: an assertion for what cannot happen unless switchyard itself has a bug (never for a
// client's, a model's or a worker's bytes: those are answered with a Status). It is checked in
// every build, release included; a failed check prints where and what, then aborts, so that the
// bug is seen at its cause instead of as corruption later.
//
//   SY_CHECK(length <= UINT32_MAX, "a frame longer than its length prefix can say");

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace switchyard::check_internal {

[[noreturn]] inline void Failed(const char* file, int line, const char* condition,
                                std::string_view why) {
  std::fprintf(stderr, "switchyard: check failed at %s:%d: %s (%.*s)\n", file, line, condition,
               static_cast<int>(why.size()), why.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace switchyard::check_internal

// `why` says what went wrong (anything a std::string_view can be made from); it is evaluated only
// when the check fails.
#define SY_CHECK(condition, why)                                                 \
  do {                                                                           \
    if (!(condition)) [[unlikely]] {                                             \
      ::switchyard::check_internal::Failed(__FILE__, __LINE__, #condition, why); \
    }                                                                            \
  } while (false)
