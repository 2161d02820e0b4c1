// File helpers shared by the segment commands (verify-segment, digest, make-segments, restore,
// catch-up): reading and writing whole files and listing a directory's segment files.
#pragma once

#include <string>
#include <vector>

namespace meridian::cli {

// Segment files are named "<collection>-shard-<5-digit index>.seg" (sealed snapshots) and
// "<collection>-shard-<index>.active.seg" (applied records).
inline constexpr const char* kSegmentSuffix = ".seg";
std::string snapshot_segment_name(const std::string& collection, uint32_t shard);
std::string active_segment_name(const std::string& collection, uint32_t shard);

// Whole-file read / write; on failure false and *error says why (path and strerror).
bool read_file(const std::string& path, std::string* out, std::string* error);
bool write_file(const std::string& path, const std::string& bytes, std::string* error);

// Paths of the regular files in `dir` whose names end in ".seg", sorted by name (byte order).
bool list_segment_files(const std::string& dir, std::vector<std::string>* paths,
                        std::string* error);

}  // namespace meridian::cli
