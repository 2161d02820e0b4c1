// Adapts a KeyFilter (and an optional tombstone check) to FAISS's IDSelector, translating the
// FAISS-internal id of a stored vector to the VectorKey the collection knows it by.
#pragma once

#include <faiss/impl/IDSelector.h>

#include <vector>

#include "engine/core/vector_index.h"

namespace meridian {

class KeyFilterSelector : public faiss::IDSelector {
 public:
  // `key_of_id[i]` is the key stored at FAISS id i; `dead` (optional) marks ids to exclude.
  KeyFilterSelector(const std::vector<VectorKey>& key_of_id, const KeyFilter* filter,
                    const std::vector<bool>* dead = nullptr)
      : key_of_id_(key_of_id), filter_(filter), dead_(dead) {}

  bool is_member(idx_t id) const override {
    if (dead_ != nullptr && (*dead_)[id]) return false;
    return filter_ == nullptr || filter_->accept(key_of_id_[id]);
  }

 private:
  const std::vector<VectorKey>& key_of_id_;
  const KeyFilter* filter_;
  const std::vector<bool>* dead_;
};

}  // namespace meridian
