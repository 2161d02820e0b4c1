#include "engine/real/engine_lock.h"

#include <cstdlib>

namespace meridian::real {

namespace {
// A failing pthread call here means a broken invariant (unlock without lock, recursion that
// would deadlock): stop at once rather than run the engine unguarded.
void check(int rc) {
  if (rc != 0) std::abort();
}
}  // namespace

EngineLock::EngineLock() {
  pthread_rwlockattr_t attr;
  check(pthread_rwlockattr_init(&attr));
  check(pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP));
  check(pthread_rwlock_init(&rwlock_, &attr));
  check(pthread_rwlockattr_destroy(&attr));
}

EngineLock::~EngineLock() { pthread_rwlock_destroy(&rwlock_); }

void EngineLock::lock() { check(pthread_rwlock_wrlock(&rwlock_)); }
bool EngineLock::try_lock() { return pthread_rwlock_trywrlock(&rwlock_) == 0; }
void EngineLock::unlock() { check(pthread_rwlock_unlock(&rwlock_)); }
void EngineLock::lock_shared() { check(pthread_rwlock_rdlock(&rwlock_)); }
bool EngineLock::try_lock_shared() { return pthread_rwlock_tryrdlock(&rwlock_) == 0; }
void EngineLock::unlock_shared() { check(pthread_rwlock_unlock(&rwlock_)); }

}  // namespace meridian::real
