#pragma once
// Mutex, lock guard and condition variable that clang's thread-safety analysis understands
// (std::mutex in libstdc++ carries no annotations): the backend SDK's classes, under the names
// the server's code uses, with the server's annotation macros (core/thread_annotations.h: the
// same attributes as the SDK's SY_ ones).

#include "core/thread_annotations.h"
#include "switchyard/backend_sdk/mutex.h"

namespace switchyard {

using Mutex = sdk::Mutex;
using MutexLock = sdk::MutexLock;
// Waits on a Mutex the caller holds; wakeups may be spurious. WaitFor waits at most a duration
// of real time (callers compute it from their Clock).
using CondVar = sdk::CondVar;

}  // namespace switchyard
