#include "engine/real/engine_lock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <thread>

namespace meridian::real {
namespace {

TEST(EngineLock, ReadersShareAndTheWriterExcludesThem) {
  EngineLock lock;
  lock.lock_shared();
  std::thread second_reader([&] {
    EXPECT_TRUE(lock.try_lock_shared());
    lock.unlock_shared();
  });
  second_reader.join();
  EXPECT_FALSE(lock.try_lock());
  lock.unlock_shared();
  EXPECT_TRUE(lock.try_lock());
  std::thread reader([&] { EXPECT_FALSE(lock.try_lock_shared()); });
  reader.join();
  lock.unlock();
}

// The property the search pool relies on: once the loop waits for the lock, new searches queue
// behind it, so a stream of readers cannot starve replication.
TEST(EngineLock, AWaitingWriterGoesBeforeReadersThatComeAfterIt) {
  EngineLock lock;
  std::atomic<int> order{0};
  int writer_turn = 0, late_reader_turn = 0;
  lock.lock_shared();  // an early reader, in the middle of a search
  std::thread writer([&] {
    std::unique_lock exclusive(lock);
    writer_turn = ++order;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the writer is waiting now
  std::thread late_reader([&] {
    std::shared_lock shared(lock);
    late_reader_turn = ++order;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(order.load(), 0);  // neither got in while the early reader holds the lock
  lock.unlock_shared();
  writer.join();
  late_reader.join();
  EXPECT_EQ(writer_turn, 1);
  EXPECT_EQ(late_reader_turn, 2);
}

}  // namespace
}  // namespace meridian::real
