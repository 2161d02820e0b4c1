#include "engine/real/origin_routed_log.h"

#include <utility>

namespace meridian::real {

OriginRoutedLog::OriginRoutedLog(env::Log& local, std::map<std::string, env::Log*> direct)
    : local_(local), direct_(std::move(direct)) {}

OriginRoutedLog::Route OriginRoutedLog::route(const std::string& topic) const {
  // Region names have no '.' (node_config.cc), so the first '.' ends the origin's name.
  const size_t dot = topic.find('.');
  if (dot != std::string::npos) {
    auto it = direct_.find(topic.substr(0, dot));
    if (it != direct_.end()) return {it->second, topic.substr(dot + 1)};
  }
  return {&local_, topic};
}

void OriginRoutedLog::produce(const std::string& topic, uint32_t partition, std::string key,
                              std::string value, ProduceDone done) {
  // A region writes only its own topics, which live in its own cluster.
  local_.produce(topic, partition, std::move(key), std::move(value), std::move(done));
}

void OriginRoutedLog::subscribe(const std::string& topic, uint32_t partition, uint64_t from_offset,
                                RecordFn on_record) {
  Route r = route(topic);
  if (r.log == &local_) {
    local_.subscribe(topic, partition, from_offset, std::move(on_record));
    return;
  }
  // The engine checks which topic a record came from (RegionNode::on_record names it in its
  // reports): give it the name it subscribed to.
  r.log->subscribe(r.topic, partition, from_offset,
                   [topic, on_record = std::move(on_record)](const env::LogRecord& record) {
                     env::LogRecord renamed = record;
                     renamed.topic = topic;
                     on_record(renamed);
                   });
}

void OriginRoutedLog::when_reading(const std::string& topic, uint32_t partition,
                                   std::function<void()> ready) {
  Route r = route(topic);
  r.log->when_reading(r.topic, partition, std::move(ready));
}

uint64_t OriginRoutedLog::end_offset(const std::string& topic, uint32_t partition) const {
  Route r = route(topic);
  return r.log->end_offset(r.topic, partition);
}

uint64_t OriginRoutedLog::start_offset(const std::string& topic, uint32_t partition) const {
  Route r = route(topic);
  return r.log->start_offset(r.topic, partition);
}

}  // namespace meridian::real
