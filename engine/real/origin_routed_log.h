// The region's log, with some other regions' records read straight from those regions' own
// clusters instead of from MirrorMaker 2's copies in the local cluster.
//
// RegionNode reads origin `b`'s records from the mirrored topics `b.wal.<collection>` and
// `b.heartbeat` of its own cluster (env::Log). With `regions[i].kafka` set in meridian-node's
// config (docs/kafka.md, "Consuming other regions directly"), this log sends the subscriptions
// and offset questions for `<origin>.<topic>` to that origin's cluster as `<topic>`, and hands
// the records back under the mirrored name, so the engine sees the same topics either way.
// Everything else, every produce included, goes to the local cluster.
//
// Offsets are the origin topic's, not the mirrored copy's. MirrorMaker 2 does not promise the
// two agree (a copy made after retention deleted the origin's head starts at 0), so positions a
// node checkpointed in one mode must not be used in the other: meridian-node refuses a data_dir
// whose recorded replication sources differ from its config (replication_sources.h).
//
// Threading: as the logs it routes to (the engine's loop thread).
#pragma once

#include <map>
#include <string>

#include "engine/env/env.h"

namespace meridian::real {

class OriginRoutedLog final : public env::Log {
 public:
  // `direct`: origin region name -> that region's cluster. REQUIRES: every log outlives this one.
  OriginRoutedLog(env::Log& local, std::map<std::string, env::Log*> direct);

  void produce(const std::string& topic, uint32_t partition, std::string key, std::string value,
               ProduceDone done) override;
  void set_writer(uint64_t writer) override { local_.set_writer(writer); }  // produce is local
  void subscribe(const std::string& topic, uint32_t partition, uint64_t from_offset,
                 RecordFn on_record) override;
  void when_reading(const std::string& topic, uint32_t partition,
                    std::function<void()> ready) override;
  uint64_t end_offset(const std::string& topic, uint32_t partition) const override;
  uint64_t start_offset(const std::string& topic, uint32_t partition) const override;

 private:
  struct Route {
    env::Log* log;
    std::string topic;  // the name in that log's cluster
  };
  // "b.wal.docs" with `b` read directly -> (b's cluster, "wal.docs"); otherwise (local, topic).
  Route route(const std::string& topic) const;

  env::Log& local_;
  std::map<std::string, env::Log*> direct_;
};

}  // namespace meridian::real
