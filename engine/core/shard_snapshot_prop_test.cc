// Properties of the durable shard formats: snapshots round-trip and are canonical (equal replicas,
// whatever their apply order, give identical bytes, segment files and digests); a segment file
// with any flipped byte or cut anywhere is rejected; damaged snapshot bytes never decode into
// something that re-encodes differently.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "engine/core/mutation_history_gen.h"
#include "engine/core/segment_file.h"
#include "engine/core/shard_digest.h"
#include "engine/core/shard_snapshot.h"

namespace meridian {
namespace {

using gen_detail::uniform_in;

ShardReplica replay(const std::vector<Mutation>& delivery) {
  ShardReplica r(0);
  for (const Mutation& m : delivery) (void)r.apply(m);
  return r;
}

SegmentHeader header(SegmentKind kind = SegmentKind::kShardSnapshot) {
  SegmentHeader h;
  h.kind = kind;
  h.collection = "c";  // gen_history's defaults: collection "c", 4 dimensions, 1 shard
  h.dimension = 4;
  h.num_shards = 1;
  return h;
}

RC_GTEST_PROP(ShardSnapshotProperties, RoundTripsAndReencodesIdentically, ()) {
  const ShardReplica r = replay(*gen_history());
  const std::string bytes = encode_shard_snapshot(r);
  Result<ShardReplica> back = decode_shard_snapshot(bytes, {.dimension = 4, .num_shards = 1});
  RC_ASSERT(back.is_ok());
  RC_ASSERT(*back == r);
  RC_ASSERT(encode_shard_snapshot(*back) == bytes);
}

RC_GTEST_PROP(ShardSnapshotProperties, EqualReplicasGiveIdenticalBytesFilesAndDigests, ()) {
  const auto history = *gen_history();
  const ShardReplica a = replay(history);
  const ShardReplica b = replay(*gen_delivery(history));
  // And a third built by merging two halves.
  ShardReplica c(0), half(0);
  for (size_t i = 0; i < history.size(); ++i) (void)(i % 2 ? c : half).apply(history[i]);
  c.merge(half);
  RC_ASSERT(a == b && a == c);
  RC_ASSERT(encode_shard_snapshot(a) == encode_shard_snapshot(b));
  RC_ASSERT(encode_shard_snapshot(a) == encode_shard_snapshot(c));
  RC_ASSERT(write_snapshot_segment(header(), a) == write_snapshot_segment(header(), c));
  RC_ASSERT(digest_shard(a) == digest_shard(b));
  RC_ASSERT(digest_shard(a) == digest_shard(c));
}

RC_GTEST_PROP(ShardSnapshotProperties, DifferentStateGivesDifferentRoot, ()) {
  const auto history = *gen_history();
  RC_PRE(!history.empty());
  const ShardReplica full = replay(history);
  const size_t drop = *uniform_in<size_t>(0, history.size() - 1);
  std::vector<Mutation> fewer = history;
  fewer.erase(fewer.begin() + ptrdiff_t(drop));
  const ShardReplica partial = replay(fewer);
  RC_ASSERT(!(full == partial));  // the version vector at least differs
  const ShardDigest a = digest_shard(full), b = digest_shard(partial);
  RC_ASSERT(a.root != b.root);
  RC_ASSERT((encode_shard_snapshot(full) == encode_shard_snapshot(partial)) == false);
  // The content root differs exactly when some vector's state differs.
  bool content_equal = full.entry_count() == partial.entry_count();
  for (const std::string& id : full.sorted_ids()) {
    const VectorState* other = partial.find(id);
    content_equal &= other != nullptr && *other == *full.find(id);
  }
  RC_ASSERT((a.content_root == b.content_root) == content_equal);
}

RC_GTEST_PROP(ShardSnapshotProperties, SegmentRejectsAnyFlippedByte, ()) {
  const ShardReplica r = replay(*gen_history());
  const std::string file = write_snapshot_segment(header(), r);
  std::string damaged = file;
  const size_t at = *uniform_in<size_t>(0, file.size() - 1);
  damaged[at] ^= char(*uniform_in<int>(1, 255));
  RC_ASSERT(!read_segment(damaged).is_ok());
  RC_ASSERT(!verify_segment(damaged).status.is_ok());
  Result<Segment> good = read_segment(file);
  RC_ASSERT(good.is_ok());
  RC_ASSERT(*good->replica == r);
}

RC_GTEST_PROP(ShardSnapshotProperties, SegmentRejectsAnyTruncationOrExtension, ()) {
  const auto history = *gen_history();
  VersionVector vv;
  for (const Mutation& m : history) vv.add(m.origin_region, m.origin_sequence);
  const bool records = *rc::gen::arbitrary<bool>();
  const std::string file =
      records ? write_records_segment(header(SegmentKind::kAppliedRecords), history, vv)
              : write_snapshot_segment(header(), replay(history));
  const size_t n = *uniform_in<size_t>(0, file.size() - 1);
  RC_ASSERT(!read_segment(std::string_view(file).substr(0, n)).is_ok());
  RC_ASSERT(!read_segment(file + *gen_bytes(1, 8)).is_ok());
  Result<Segment> good = read_segment(file);
  RC_ASSERT(good.is_ok());
  if (records) RC_ASSERT(good->records == history);
}

RC_GTEST_PROP(ShardSnapshotProperties, DamagedSnapshotBytesNeverDecodeNonCanonically, ()) {
  std::string bytes = encode_shard_snapshot(replay(*gen_history()));
  const size_t flips = *uniform_in<size_t>(1, 3);
  for (size_t i = 0; i < flips; ++i) {
    bytes[*uniform_in<size_t>(0, bytes.size() - 1)] ^= char(*uniform_in<int>(1, 255));
  }
  Result<ShardReplica> r = decode_shard_snapshot(bytes);
  if (r.is_ok()) RC_ASSERT(encode_shard_snapshot(*r) == bytes);
}

}  // namespace
}  // namespace meridian
