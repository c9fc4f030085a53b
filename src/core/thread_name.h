#pragma once
// Names the calling thread, as `top -H`, `ps -L`, gdb and /proc/PID/task/TID/comm show it, so
// that a profile of a busy server says which part is busy (e.g. "sy-http-3", "sy-dispatch").

#include <pthread.h>

#include <string>
#include <string_view>

namespace switchyard {

// Linux keeps at most 15 characters; a longer name is cut there.
inline void NameThisThread(std::string_view name) {
  std::string text(name.substr(0, 15));
  pthread_setname_np(pthread_self(), text.c_str());
}

}  // namespace switchyard
