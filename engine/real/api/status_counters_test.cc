// The node's counters reach both status reports (JSON and gRPC) in full: each report is built
// from node_counters.h's list, and these tests fail when a counter has no field in the proto
// message or loses its value on the way.
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <string>

#include "engine/node/node_counters.h"
#include "engine/real/api/json_mapping.h"
#include "engine/real/api/proto_mapping.h"

namespace meridian::real::api {
namespace {

// Every counter set to a different value (its row number + 100), so a field filled from the
// wrong member shows.
NodeStatus status_with_distinct_counters() {
  NodeStatus s;
  s.self = {"us-east", 1};
  uint64_t value = 100;
  for (const node::NodeCounterField& f : node::kNodeCounterFields) s.counters.*f.member = value++;
  return s;
}

TEST(StatusCounters, TheProtoMessageHasAUint64FieldForEveryCounterAndNoOther) {
  const google::protobuf::Descriptor* d = v1::NodeCounters::descriptor();
  for (const node::NodeCounterField& f : node::kNodeCounterFields) {
    const google::protobuf::FieldDescriptor* field = d->FindFieldByName(f.name);
    ASSERT_NE(field, nullptr) << "proto/meridian.proto: NodeCounters lacks " << f.name;
    EXPECT_EQ(field->cpp_type(), google::protobuf::FieldDescriptor::CPPTYPE_UINT64) << f.name;
  }
  EXPECT_EQ(size_t(d->field_count()), std::size(node::kNodeCounterFields));
}

TEST(StatusCounters, GrpcStatusCarriesEveryCounterValue) {
  const NodeStatus s = status_with_distinct_counters();
  v1::NodeStatusResponse out;
  to_proto(s, &out);
  const v1::NodeCounters& c = out.counters();
  for (const node::NodeCounterField& f : node::kNodeCounterFields) {
    const google::protobuf::FieldDescriptor* field = c.GetDescriptor()->FindFieldByName(f.name);
    ASSERT_NE(field, nullptr) << f.name;
    EXPECT_EQ(c.GetReflection()->GetUInt64(c, field), s.counters.*f.member) << f.name;
  }
  // Spot checks through the generated accessors, independent of reflection.
  EXPECT_EQ(c.writes_accepted(), s.counters.writes_accepted);
  EXPECT_EQ(c.catch_ups_started(), s.counters.catch_ups_started);
  EXPECT_EQ(c.tombstones_collected(), s.counters.tombstones_collected);
}

TEST(StatusCounters, JsonStatusCarriesEveryCounterValueAndNoOther) {
  const NodeStatus s = status_with_distinct_counters();
  const nlohmann::json counters = to_json(s).at("counters");
  for (const node::NodeCounterField& f : node::kNodeCounterFields) {
    ASSERT_TRUE(counters.contains(f.name)) << f.name;
    EXPECT_EQ(counters.at(f.name).get<uint64_t>(), s.counters.*f.member) << f.name;
  }
  EXPECT_EQ(counters.size(), std::size(node::kNodeCounterFields));
  EXPECT_EQ(counters.at("tombstones_collected").get<uint64_t>(), s.counters.tombstones_collected);
}

TEST(StatusCounters, BothReportsSayWhyWritesStoppedAndNothingWhileTheyAreAccepted) {
  NodeStatus s = status_with_distinct_counters();
  v1::NodeStatusResponse accepting;
  to_proto(s, &accepting);
  EXPECT_EQ(accepting.writes_stopped(), "");
  EXPECT_EQ(to_json(s).at("writes_stopped"), "");
  s.writes_stopped = "wal.docs/3: sequence 9 (offset 12), appended after this node started, ...";
  v1::NodeStatusResponse stopped;
  to_proto(s, &stopped);
  EXPECT_EQ(stopped.writes_stopped(), s.writes_stopped);
  EXPECT_EQ(to_json(s).at("writes_stopped"), s.writes_stopped);
}

TEST(StatusCounters, BothReportsCarryTheWriterEpoch) {
  NodeStatus s = status_with_distinct_counters();
  s.writer_epoch = 7;
  v1::NodeStatusResponse out;
  to_proto(s, &out);
  EXPECT_EQ(out.writer_epoch(), 7u);
  EXPECT_EQ(to_json(s).at("writer_epoch"), 7u);
}

}  // namespace
}  // namespace meridian::real::api
