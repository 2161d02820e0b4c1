#include "engine/real/memory_log.h"

#include <cassert>

namespace meridian::real {

MemoryLog::MemoryLog(EventLoop& loop, MemoryLogOptions options)
    : loop_(loop), options_(options), alive_(std::make_shared<MemoryLog*>(this)) {}

MemoryLog::~MemoryLog() = default;

void MemoryLog::produce(const std::string& topic, uint32_t partition, std::string key,
                        std::string value, ProduceDone done) {
  std::weak_ptr<MemoryLog*> alive = alive_;
  const size_t size = key.size() + value.size();
  if (bytes_ + size > options_.max_bytes) {
    loop_.post([alive, done = std::move(done), max = options_.max_bytes] {
      if (alive.lock()) {
        done(Status::unavailable("memory log full (" + std::to_string(max) + " bytes)"), 0);
      }
    });
    return;
  }
  const PartitionKey pk{topic, partition};
  std::deque<env::LogRecord>& records = partitions_[pk];
  const uint64_t offset = records.size();
  records.push_back(
      env::LogRecord{topic, partition, offset, std::move(key), std::move(value), writer_});
  bytes_ += size;
  loop_.post([alive, done = std::move(done), offset] {
    if (alive.lock()) done(Status::ok(), offset);
  });
  schedule(pk);
}

void MemoryLog::subscribe(const std::string& topic, uint32_t partition, uint64_t from_offset,
                          RecordFn on_record) {
  const PartitionKey pk{topic, partition};
  Subscription& sub = subs_[pk];
  sub.id = next_sub_++;
  sub.position = from_offset;
  sub.on_record = std::move(on_record);
  sub.scheduled = false;  // a task for the replaced subscription sees another id
  schedule(pk);
}

uint64_t MemoryLog::end_offset(const std::string& topic, uint32_t partition) const {
  auto it = partitions_.find({topic, partition});
  return it == partitions_.end() ? 0 : it->second.size();
}

void MemoryLog::schedule(const PartitionKey& pk) {
  auto sub = subs_.find(pk);
  if (sub == subs_.end() || sub->second.scheduled) return;
  if (sub->second.position >= end_offset(pk.first, pk.second)) return;
  sub->second.scheduled = true;
  std::weak_ptr<MemoryLog*> alive = alive_;
  loop_.post([alive, pk, id = sub->second.id] {
    if (auto self = alive.lock()) (*self)->deliver(pk, id);
  });
}

void MemoryLog::deliver(const PartitionKey& pk, uint64_t sub_id) {
  auto sub = subs_.find(pk);
  if (sub == subs_.end() || sub->second.id != sub_id) return;
  sub->second.scheduled = false;
  const std::deque<env::LogRecord>& records = partitions_[pk];
  // Records appended by the callbacks themselves are delivered in this loop too, in order. A
  // callback may replace this subscription: stop then (the new one has its own task).
  while (true) {
    sub = subs_.find(pk);
    if (sub == subs_.end() || sub->second.id != sub_id) return;
    if (sub->second.position >= records.size()) return;
    const env::LogRecord& record = records[sub->second.position];
    assert(record.offset == sub->second.position);
    ++sub->second.position;
    RecordFn fn = sub->second.on_record;  // a copy: the callback may replace the subscription
    fn(record);
  }
}

}  // namespace meridian::real
