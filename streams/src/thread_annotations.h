// Clang thread-safety annotations (-Wthread-safety), as in leveldb
// port/thread_annotations.h. They expand to nothing on other compilers.
#ifndef EDDY_STREAMS_SRC_THREAD_ANNOTATIONS_H_
#define EDDY_STREAMS_SRC_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define EDDY_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define EDDY_THREAD_ANNOTATION_(x)
#endif

#define EDDY_CAPABILITY(x) EDDY_THREAD_ANNOTATION_(capability(x))
#define EDDY_SCOPED_CAPABILITY EDDY_THREAD_ANNOTATION_(scoped_lockable)
#define EDDY_GUARDED_BY(x) EDDY_THREAD_ANNOTATION_(guarded_by(x))
#define EDDY_PT_GUARDED_BY(x) EDDY_THREAD_ANNOTATION_(pt_guarded_by(x))
#define EDDY_ACQUIRED_BEFORE(...) \
  EDDY_THREAD_ANNOTATION_(acquired_before(__VA_ARGS__))
#define EDDY_REQUIRES(...) \
  EDDY_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
#define EDDY_ACQUIRE(...) \
  EDDY_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define EDDY_RELEASE(...) \
  EDDY_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
#define EDDY_EXCLUDES(...) EDDY_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
#define EDDY_ASSERT_CAPABILITY(x) EDDY_THREAD_ANNOTATION_(assert_capability(x))
#define EDDY_NO_THREAD_SAFETY_ANALYSIS \
  EDDY_THREAD_ANNOTATION_(no_thread_safety_analysis)

#endif  // EDDY_STREAMS_SRC_THREAD_ANNOTATIONS_H_
