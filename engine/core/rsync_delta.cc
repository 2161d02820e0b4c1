#include "engine/core/rsync_delta.h"

#include <librsync.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <mutex>

namespace meridian {

namespace {

// librsync reports details (e.g. "bogus copy command") through its log sink; keep the latest
// error-level line of this thread so that Status messages can carry it.
thread_local std::string t_last_rsync_log;

// Keeps the first error line of a job: the most specific one (later lines such as "patch job
// failed" only repeat the result code).
void capture_log(rs_loglevel level, const char* msg) {
  if (level > RS_LOG_ERR || !t_last_rsync_log.empty()) return;
  std::string_view line(msg);
  if (const size_t at = line.find("ERROR: "); at != std::string_view::npos)
    line.remove_prefix(at + 7);
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.remove_suffix(1);
  t_last_rsync_log = line;
}

void silence_librsync() {
  static std::once_flag once;
  std::call_once(once, [] {
    rs_trace_to(capture_log);
    rs_trace_set_level(RS_LOG_ERR);
  });
}

Status to_status(const char* what, rs_result r) {
  std::string msg = std::string(what) + ": librsync: " + rs_strerror(r);
  if (!t_last_rsync_log.empty()) msg += " (" + t_last_rsync_log + ")";
  switch (r) {
    case RS_INPUT_ENDED: return Status::truncated(msg);
    case RS_UNIMPLEMENTED: return Status::unsupported(msg);
    case RS_MEM_ERROR: return Status::too_large(msg);
    default: return Status::corruption(msg);
  }
}

struct JobDeleter {
  void operator()(rs_job_t* job) const { rs_job_free(job); }
};
using Job = std::unique_ptr<rs_job_t, JobDeleter>;

// Runs `job` over all of `input` (end of input included), appending its output to *out, which
// may not grow beyond max_output bytes.
Status run_job(const char* what, rs_job_t* job, std::string_view input, std::string* out,
               size_t max_output) {
  t_last_rsync_log.clear();
  rs_buffers_t buf{};
  buf.next_in = const_cast<char*>(input.data());  // librsync never writes its input
  buf.avail_in = input.size();
  buf.eof_in = 1;
  size_t produced = out->size();
  if (out->size() < produced + 64 * 1024) out->resize(std::min(max_output, produced + 64 * 1024));
  while (true) {
    if (out->size() - produced < 16 * 1024 && out->size() < max_output) {
      out->resize(std::min(max_output, std::max<size_t>(out->size() * 2, produced + 64 * 1024)));
    }
    buf.next_out = out->data() + produced;
    buf.avail_out = out->size() - produced;
    const size_t avail_in_before = buf.avail_in;
    const rs_result r = rs_job_iter(job, &buf);
    const size_t wrote = size_t(buf.next_out - (out->data() + produced));
    produced += wrote;
    if (r == RS_DONE) break;
    if (r != RS_BLOCKED) {
      out->resize(produced);
      return to_status(what, r);
    }
    if (wrote == 0 && buf.avail_in == avail_in_before) {
      if (buf.avail_out == 0 && out->size() >= max_output) {
        return Status::too_large(std::string(what) + ": output would exceed " +
                                 std::to_string(max_output) + " bytes");
      }
      if (buf.avail_out > 0) {
        return Status::truncated(std::string(what) + ": librsync made no progress at input byte " +
                                 std::to_string(input.size() - buf.avail_in));
      }
    }
  }
  out->resize(produced);
  return Status::ok();
}

uint32_t load_be32(const char* p) {
  return (uint32_t(uint8_t(p[0])) << 24) | (uint32_t(uint8_t(p[1])) << 16) |
         (uint32_t(uint8_t(p[2])) << 8) | uint32_t(uint8_t(p[3]));
}

constexpr size_t kMinBlockLen = 256;
constexpr size_t kMaxBlockLen = 1 << 20;
constexpr size_t kMinStrongLen = 4;

// librsync trusts a signature's header; check it before handing it over, so that a damaged
// signature gives a precise error instead of, e.g., a delta job sized by a garbage block length.
Status check_signature_header(std::string_view sig) {
  if (sig.size() < 12) {
    return Status::truncated("signature is " + std::to_string(sig.size()) +
                             " bytes; its header alone is 12");
  }
  const uint32_t magic = load_be32(sig.data());
  if (magic != RS_RK_BLAKE2_SIG_MAGIC && magic != RS_BLAKE2_SIG_MAGIC) {
    return Status::corruption("signature has bad magic 0x" + [&] {
      char b[9];
      std::snprintf(b, sizeof b, "%08x", magic);
      return std::string(b);
    }() + " (expected a librsync BLAKE2 signature)");
  }
  const uint32_t block_len = load_be32(sig.data() + 4);
  const uint32_t strong_len = load_be32(sig.data() + 8);
  if (block_len < 1 || block_len > kMaxBlockLen || strong_len < 1 ||
      strong_len > RS_MAX_STRONG_SUM_LENGTH) {
    return Status::corruption("signature header has block length " + std::to_string(block_len) +
                              " and strong sum length " + std::to_string(strong_len));
  }
  if ((sig.size() - 12) % (4 + strong_len) != 0) {
    return Status::truncated("signature body of " + std::to_string(sig.size() - 12) +
                             " bytes is not a whole number of " + std::to_string(4 + strong_len) +
                             "-byte block sums");
  }
  return Status::ok();
}

struct Basis {
  std::string_view bytes;
};

rs_result copy_from_basis(void* opaque, rs_long_t pos, size_t* len, void** buf) {
  const std::string_view basis = static_cast<Basis*>(opaque)->bytes;
  if (pos < 0 || uint64_t(pos) >= basis.size()) {
    t_last_rsync_log = "delta copies from basis offset " + std::to_string(pos) +
                       ", past its end (" + std::to_string(basis.size()) + " bytes)";
    return RS_CORRUPT;
  }
  *len = std::min(*len, basis.size() - size_t(pos));
  *buf = const_cast<char*>(basis.data() + pos);  // librsync copies from here, never writes
  return RS_DONE;
}

}  // namespace

Result<std::string> rsync_signature(std::string_view basis, const RsyncSignatureOptions& o) {
  silence_librsync();
  if (o.block_len < kMinBlockLen || o.block_len > kMaxBlockLen || o.strong_len < kMinStrongLen ||
      o.strong_len > RS_MAX_STRONG_SUM_LENGTH) {
    return Status::invalid_argument(
        "signature block_len must be in " + std::to_string(kMinBlockLen) + ".." +
        std::to_string(kMaxBlockLen) + " and strong_len in " + std::to_string(kMinStrongLen) +
        ".." + std::to_string(RS_MAX_STRONG_SUM_LENGTH));
  }
  Job job(rs_sig_begin(o.block_len, o.strong_len, RS_RK_BLAKE2_SIG_MAGIC));
  if (!job) return Status::invalid_argument("librsync rejected the signature parameters");
  std::string out;
  const size_t blocks = (basis.size() + o.block_len - 1) / o.block_len;
  out.reserve(12 + blocks * (4 + o.strong_len));
  if (Status s = run_job("signature", job.get(), basis, &out, kRsyncMaxOutputBytes); !s.is_ok()) {
    return s;
  }
  return out;
}

Result<std::string> rsync_delta(std::string_view signature, std::string_view new_bytes,
                                RsyncDeltaStats* stats) {
  silence_librsync();
  if (Status s = check_signature_header(signature); !s.is_ok()) return s;
  rs_signature_t* sumset = nullptr;
  struct SumsetDeleter {
    rs_signature_t** p;
    ~SumsetDeleter() {
      if (*p != nullptr) rs_free_sumset(*p);
    }
  } free_sumset{&sumset};
  {
    Job load(rs_loadsig_begin(&sumset));
    std::string none;
    if (Status s = run_job("load signature", load.get(), signature, &none, 0); !s.is_ok()) {
      return s;
    }
  }
  if (const rs_result r = rs_build_hash_table(sumset); r != RS_DONE) {
    return to_status("index signature", r);
  }
  Job job(rs_delta_begin(sumset));
  std::string out;
  out.reserve(new_bytes.size() / 16 + 1024);
  if (Status s = run_job("delta", job.get(), new_bytes, &out, kRsyncMaxOutputBytes); !s.is_ok()) {
    return s;
  }
  if (stats != nullptr) {
    const rs_stats_t* st = rs_job_statistics(job.get());
    stats->literal_bytes = uint64_t(st->lit_bytes);
    stats->copy_bytes = uint64_t(st->copy_bytes);
    stats->literal_commands = uint64_t(st->lit_cmds);
    stats->copy_commands = uint64_t(st->copy_cmds);
  }
  return out;
}

Result<std::string> rsync_patch(std::string_view basis, std::string_view delta,
                                size_t max_output_bytes) {
  silence_librsync();
  Basis b{basis};
  Job job(rs_patch_begin(copy_from_basis, &b));
  std::string out;
  out.reserve(std::min(max_output_bytes, basis.size() + delta.size()));
  if (Status s = run_job("patch", job.get(), delta, &out, max_output_bytes); !s.is_ok()) {
    return s;
  }
  return out;
}

}  // namespace meridian
