#include "engine/real/thread_offload.h"

#include <memory>
#include <utility>

#include "engine/real/thread_priority.h"

namespace meridian::real {

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
