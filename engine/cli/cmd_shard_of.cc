// meridian shard-of --shards N [--seed S] [ID...]: which shard each vector id routes to.
#include <iostream>
#include <string>
#include <vector>

#include "engine/cli/commands.h"
#include "engine/core/routing.h"

namespace meridian::cli {

void add_shard_of(CLI::App& app, int* exit_code) {
  struct Options {
    uint64_t shards = 0;
    uint32_t seed = kDefaultRoutingSeed;
    std::vector<std::string> ids;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "shard-of",
      "Print 'ID<TAB>shard' for each vector id: murmur3_32(id, seed) % shards, as every region "
      "routes it. Reads ids from stdin (one per line) when none are given.");
  cmd->add_option("--shards,-n", opts->shards, "number of shards of the collection")->required();
  cmd->add_option("--seed", opts->seed, "routing seed (default 0)");
  cmd->add_option("ids", opts->ids, "vector ids (use -- before ids that start with '-')");
  cmd->callback([opts, exit_code] {
    if (Status s = validate_num_shards(opts->shards); !s.is_ok()) {
      std::cerr << "meridian shard-of: " << s.message() << "\n";
      *exit_code = 2;
      return;
    }
    const auto n = uint32_t(opts->shards);
    auto print = [&](const std::string& id) {
      std::cout << id << '\t' << shard_of(id, n, opts->seed) << '\n';
    };
    if (!opts->ids.empty()) {
      for (const auto& id : opts->ids) print(id);
    } else {
      std::string line;
      while (std::getline(std::cin, line)) print(line);
    }
    *exit_code = 0;
  });
}

}  // namespace meridian::cli
