// How many OpenMP threads FAISS may use per call on the real environment's threads.
//
// FAISS parallelises some calls with OpenMP: every IVF add (IndexIVFFlat::add_core opens a
// parallel region even for one vector), k-means training, batched searches. Its workers then
// spin for a while after each region, and on a small machine an add on the event loop waits at
// the region's barrier for a worker the kernel has descheduled (docs/api.md). meridian-node
// therefore runs FAISS with one OpenMP thread unless OMP_NUM_THREADS says otherwise.
//
// OpenMP's thread count is an attribute of each thread: omp_set_num_threads() affects only the
// calling thread, and threads started later begin from the process default (OMP_NUM_THREADS,
// else one per core). So the policy is set once, process-wide, and applied by every thread of
// ours that calls FAISS when it starts: the event loop (EventLoop::run: writes, training) and
// the search workers (WorkerPool). Request threads (gRPC's, the HTTP gateway's) run only
// single-query searches, which FAISS does not parallelise.
#pragma once

namespace meridian::real {

// The OpenMP threads per FAISS call on threads that call apply_openmp_policy(); 0 (the initial
// value) leaves OpenMP's own default. Set it before starting the threads.
void set_openmp_threads(int threads);
int openmp_threads();

// meridian-node's policy: 1, unless the environment sets OMP_NUM_THREADS (then 0: the
// operator's value stands).
int default_openmp_threads();

// Applies the policy to the calling thread (omp_set_num_threads), if it is not 0.
void apply_openmp_policy();

}  // namespace meridian::real
