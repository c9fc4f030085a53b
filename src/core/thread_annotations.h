#pragma once
// Clang thread-safety annotations (-Wthread-safety); no-ops for other compilers.

#if defined(__clang__)
#define SY_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define SY_THREAD_ANNOTATION(x)
#endif

// Ours replace any earlier definition: Abseil (under gRPC++) defines GUARDED_BY, PT_GUARDED_BY and
// NO_THREAD_SAFETY_ANALYSIS too, with the same attributes. A file that uses both includes gRPC++
// first.
#undef GUARDED_BY
#undef PT_GUARDED_BY
#undef NO_THREAD_SAFETY_ANALYSIS
#define CAPABILITY(x) SY_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY SY_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) SY_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) SY_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) SY_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) SY_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) SY_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) SY_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS SY_THREAD_ANNOTATION(no_thread_safety_analysis)
