#include "engine/real/thread_offload.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <utility>

namespace meridian::real {
namespace {

// Linux keeps a nice value per thread: this lowers only the calling thread. Best effort (a
// failure leaves it at the process's priority, which only makes queries slower).
void lower_this_threads_priority() {
  const int tid = int(::syscall(SYS_gettid));
  errno = 0;
  const int nice_now = ::getpriority(PRIO_PROCESS, id_t(tid));
  if (errno == 0) (void)::setpriority(PRIO_PROCESS, id_t(tid), std::min(nice_now + 10, 19));
}

}  // namespace

ThreadOffload::ThreadOffload(EventLoop& loop, size_t max_queued)
    : loop_(loop), pool_("offload", 1, max_queued) {}

ThreadOffload::~ThreadOffload() { stop(); }

void ThreadOffload::run(Work work, Done done) {
  auto shared_done = std::make_shared<Done>(std::move(done));
  auto dropped = [this, shared_done] {
    loop_.post([shared_done] { (*shared_done)(std::nullopt); });
  };
  const bool queued = pool_.submit(
      [this, work = std::move(work), shared_done] {
        thread_local const bool lowered = (lower_this_threads_priority(), true);
        (void)lowered;
        std::string result = work();
        loop_.post([shared_done, result = std::move(result)]() mutable {
          (*shared_done)(std::move(result));
        });
      },
      dropped);
  if (!queued) dropped();
}

}  // namespace meridian::real
