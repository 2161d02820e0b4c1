#include "engine/core/shard_digest.h"

#include <openssl/evp.h>

#include <cassert>
#include <memory>

#include "engine/core/binary_io.h"
#include "engine/core/crc32c.h"
#include "engine/core/shard_snapshot.h"

namespace meridian {

namespace {

struct CtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using Ctx = std::unique_ptr<EVP_MD_CTX, CtxDeleter>;

// A SHA-256 stream. OpenSSL failures here mean allocation failure or a broken library; there is
// no meaningful recovery, so they are asserted (asserts stay on in every build).
class Sha256Stream {
 public:
  Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
    assert(ctx_ != nullptr);
    [[maybe_unused]] const int ok = EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
    assert(ok == 1);
  }
  void update(std::string_view bytes) {
    [[maybe_unused]] const int ok = EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size());
    assert(ok == 1);
  }
  void update(const Sha256& h) {
    update(std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
  }
  Sha256 finish() {
    Sha256 out{};
    unsigned int len = 0;
    [[maybe_unused]] const int ok = EVP_DigestFinal_ex(ctx_.get(), out.data(), &len);
    assert(ok == 1 && len == out.size());
    return out;
  }

 private:
  Ctx ctx_;
};

}  // namespace

uint32_t digest_bucket_of(std::string_view id) {
  return crc32c(id.data(), id.size()) % kDigestBuckets;
}

Sha256 sha256(std::string_view bytes) {
  Sha256Stream s;
  s.update(bytes);
  return s.finish();
}

ShardDigest digest_shard(const ShardReplica& replica) {
  ShardDigest d;
  d.shard_index = replica.shard_index();
  const std::vector<std::string> ids = replica.sorted_ids();
  d.entry_count = ids.size();
  // Entries are buffered per bucket and hashed in chunks, so that each EVP call sees kilobytes
  // rather than one entry; the buffered bytes are exactly the concatenated entry encodings.
  constexpr size_t kFlushBytes = 64 * 1024;
  std::vector<Sha256Stream> streams(kDigestBuckets);
  std::vector<std::string> pending(kDigestBuckets);
  for (const std::string& id : ids) {
    const uint32_t b = digest_bucket_of(id);
    encode_snapshot_entry(id, *replica.find(id), &pending[b]);
    ++d.bucket_entries[b];
    if (pending[b].size() >= kFlushBytes) {
      streams[b].update(pending[b]);
      pending[b].clear();
    }
  }
  Sha256Stream content;
  content.update("meridian-shard-digest-v1");
  std::string fixed;
  binary_io::put_fixed<uint32_t>(&fixed, d.shard_index);
  binary_io::put_fixed<uint32_t>(&fixed, kDigestBuckets);
  content.update(fixed);
  for (uint32_t b = 0; b < kDigestBuckets; ++b) {
    streams[b].update(pending[b]);
    d.buckets[b] = streams[b].finish();
    content.update(d.buckets[b]);
  }
  d.content_root = content.finish();
  std::string vv = "meridian-version-vector-v1";
  encode_version_vector(replica.version_vector(), &vv);
  d.version_vector_hash = sha256(vv);
  Sha256Stream root;
  root.update(d.content_root);
  root.update(d.version_vector_hash);
  d.root = root.finish();
  return d;
}

std::vector<uint32_t> differing_buckets(const ShardDigest& a, const ShardDigest& b) {
  assert(a.shard_index == b.shard_index);
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < kDigestBuckets; ++i) {
    if (a.buckets[i] != b.buckets[i]) out.push_back(i);
  }
  return out;
}

std::string to_hex(const Sha256& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (uint8_t byte : hash) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 15];
  }
  return out;
}

}  // namespace meridian
