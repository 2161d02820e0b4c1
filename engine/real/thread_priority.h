// Per-thread CPU priority for background work (checkpoint I/O, digests) that must not take the
// cores from the event loop and the search workers.
#pragma once

namespace meridian::real {

// Lowers the calling thread's priority by 10 nice levels (at most to 19). Linux keeps a nice
// value per thread, so only the calling thread is affected. Best effort: a failure leaves the
// thread at the process's priority, which only makes queries slower while it works.
void lower_this_threads_priority();

}  // namespace meridian::real
