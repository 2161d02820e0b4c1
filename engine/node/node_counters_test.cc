#include "engine/node/node_counters.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace meridian::node {
namespace {

// The static_assert in the header counts the rows; this checks each row is a different field
// and name, so a copy-pasted row cannot stand in for a missing one.
TEST(NodeCounterFields, EveryRowNamesADifferentFieldUnderItsOwnName) {
  NodeCounters c;
  uint64_t value = 1;
  for (const NodeCounterField& f : kNodeCounterFields) c.*f.member = value++;
  std::set<uint64_t> values;
  std::set<std::string> names;
  for (const NodeCounterField& f : kNodeCounterFields) {
    EXPECT_TRUE(values.insert(c.*f.member).second)
        << f.name << " shares its field with another row";
    EXPECT_TRUE(names.insert(f.name).second) << f.name << " is listed twice";
    EXPECT_FALSE(std::string(f.help).empty()) << f.name;
  }
  EXPECT_EQ(values.size(), std::size(kNodeCounterFields));
}

}  // namespace
}  // namespace meridian::node
