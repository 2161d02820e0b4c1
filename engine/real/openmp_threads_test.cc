#include "engine/real/openmp_threads.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cstdlib>
#include <future>
#include <thread>

#include "engine/real/event_loop.h"
#include "engine/real/worker_pool.h"

namespace meridian::real {
namespace {

// A policy no machine's default gives (1 would be the default on a 1-core machine), restored
// afterwards.
constexpr int kPolicy = 3;

class OpenMpThreadsTest : public ::testing::Test {
 protected:
  void SetUp() override { set_openmp_threads(kPolicy); }
  void TearDown() override { set_openmp_threads(0); }
};

// Why the policy exists: OpenMP's setting is per thread, so setting it on one thread does not
// reach a thread started afterwards.
TEST_F(OpenMpThreadsTest, SettingItOnOneThreadDoesNotReachNewThreads) {
  if (std::getenv("OMP_NUM_THREADS") != nullptr) GTEST_SKIP() << "OMP_NUM_THREADS is set";
  std::thread([] {
    omp_set_num_threads(kPolicy);
    int elsewhere = 0;
    std::thread([&] { elsewhere = omp_get_max_threads(); }).join();
    EXPECT_NE(elsewhere, kPolicy);
  }).join();
}

TEST_F(OpenMpThreadsTest, TheEventLoopThreadAppliesThePolicy) {
  EventLoop loop;
  std::thread thread([&] { loop.run(); });
  int on_loop = 0;
  ASSERT_TRUE(loop.run_and_wait([&] { on_loop = omp_get_max_threads(); }));
  loop.stop();
  thread.join();
  EXPECT_EQ(on_loop, kPolicy);
}

TEST_F(OpenMpThreadsTest, SearchWorkersApplyThePolicy) {
  WorkerPool pool("omp-test", 2, 8);
  std::promise<int> seen;
  ASSERT_TRUE(pool.submit([&] { seen.set_value(omp_get_max_threads()); }, [] {}));
  EXPECT_EQ(seen.get_future().get(), kPolicy);
  pool.stop();
}

TEST_F(OpenMpThreadsTest, ZeroLeavesOpenMpAlone) {
  set_openmp_threads(0);
  int before = 0, after = 0;
  std::thread([&] {
    before = omp_get_max_threads();
    apply_openmp_policy();
    after = omp_get_max_threads();
  }).join();
  EXPECT_EQ(before, after);
}

TEST(OpenMpThreadsDefault, OneUnlessTheEnvironmentSaysOtherwise) {
  EXPECT_EQ(default_openmp_threads(), std::getenv("OMP_NUM_THREADS") == nullptr ? 1 : 0);
}

}  // namespace
}  // namespace meridian::real
