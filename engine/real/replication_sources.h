// Which copy of each other region's log a data directory's checkpoints were taken from.
//
// A checkpoint records, per origin and shard, the log offset to resume from. Read through
// MirrorMaker 2 these are offsets of the mirrored topic in the local cluster; read directly
// (regions[i].kafka, OriginRoutedLog) they are the origin topic's own. The two need not agree,
// so resuming from one kind of offset in the other kind of topic could skip records, silently.
// meridian-node therefore records each origin's source in `<data_dir>/REPLICATION` and refuses
// to start when its config names a different one for an origin the directory already knows.
//
// The file: one line per other region, "<region name> mirror|direct", written atomically
// (temporary file, fsync, rename, fsync of the directory). A directory without the file but
// with checkpoints predates it, when every origin was read through MirrorMaker 2.
#pragma once

#include <map>
#include <string>

#include "engine/core/status.h"
#include "engine/real/posix_files.h"

namespace meridian::real {

enum class ReplicationSource { kMirror, kDirect };

// Checks `sources` (other region name -> source) against what `dir` records, then records them
// (regions the directory did not know are added; a region no longer configured keeps its line,
// in case it returns). Errors name the region and both sources (invalid_argument: the config
// asks for the other source), or the file (corruption: unreadable; I/O errors as PosixFiles).
Status check_replication_sources(const PosixFiles& dir,
                                 const std::map<std::string, ReplicationSource>& sources);

const char* replication_source_name(ReplicationSource source);  // "mirror", "direct"

}  // namespace meridian::real
