#include "engine/real/thread_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace meridian::real {

void lower_this_threads_priority() {
  const int tid = int(::syscall(SYS_gettid));
  errno = 0;  // getpriority may legitimately return -1
  const int nice_now = ::getpriority(PRIO_PROCESS, id_t(tid));
  if (errno == 0) (void)::setpriority(PRIO_PROCESS, id_t(tid), std::min(nice_now + 10, 19));
}

}  // namespace meridian::real
