// One vector id's entry in a ShardReplica: its VectorState, shared between copies of the
// replica until one of them changes it (copy on write).
//
// Why: a checkpoint encodes a shard snapshot off the engine's loop (env::Files::write_encoded)
// from a copy of the replica, taken on the loop. With shared entries that copy costs a pointer
// per id instead of a deep copy of every embedding and payload, so the loop is held for a
// fraction of what encoding in place cost, and the copy stays valid while the loop goes on
// applying writes.
//
// Thread-safety: each VectorEntry object is used by one thread, but the state behind it may be
// shared with entries (copies) read on other threads. mutate() clones the state unless this
// entry is its only owner, so a shared state is never written; an owner on another thread may
// read it and drop it at any time.
#pragma once

#include <atomic>
#include <memory>
#include <utility>

#include "engine/core/vector_state.h"

namespace meridian {

class VectorEntry {
 public:
  VectorEntry() : state_(std::make_shared<VectorState>()) {}
  explicit VectorEntry(VectorState state)
      : state_(std::make_shared<VectorState>(std::move(state))) {}

  const VectorState& get() const { return *state_; }
  const VectorState* operator->() const { return state_.get(); }

  // The state, for writing: this entry's own from now on. Clones it if another entry (a copy of
  // the replica, maybe on another thread) shares it.
  VectorState& mutate() {
    if (state_.use_count() != 1) {
      state_ = std::make_shared<VectorState>(*state_);
    } else {
      // The last other owner may just have dropped it on another thread: its reads of the state
      // happen before our writes (pairs with the release in shared_ptr's count decrement).
      std::atomic_thread_fence(std::memory_order_acquire);
    }
    return *state_;
  }

  // Equal states, shared or not.
  bool operator==(const VectorEntry& other) const {
    return state_ == other.state_ || *state_ == *other.state_;
  }

 private:
  std::shared_ptr<VectorState> state_;  // never null
};

}  // namespace meridian
