// meridian-sim: replays scenario files in the deterministic simulator.
//
//   meridian-sim run scenarios/partition.yaml [--seed N] [--repeat 2] [--report-dir DIR]
//   meridian-sim sweep scenarios/partition.yaml --seeds 1000 [--first-seed S]
//
// `run` prints a summary per scenario and writes a JSON report; with --repeat N it replays each
// scenario N times and fails unless every replay has the same trace digest. Exit status 0 when
// every check of every run passed, 1 otherwise, 2 for bad usage or an invalid scenario file.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "sim/report.h"
#include "sim/runner.h"
#include "sim/scenario_loader.h"

#ifndef MERIDIAN_GIT_REVISION
#define MERIDIAN_GIT_REVISION "unknown"
#endif

namespace {

using meridian::sim::RunOptions;
using meridian::sim::RunResult;
using meridian::sim::Scenario;

constexpr const char* kRevision = MERIDIAN_GIT_REVISION;

std::string replay_command(const std::string& file, uint64_t seed, bool sweep) {
  return std::string("meridian-sim ") + (sweep ? "sweep --seeds 1 --first-seed " : "run --seed ") +
         std::to_string(seed) + " " + file;
}

bool load(const std::string& file, Scenario* out) {
  auto loaded = meridian::sim::load_scenario_file(file);
  if (!loaded.is_ok()) {
    std::cerr << "meridian-sim: " << loaded.status().message() << "\n";
    return false;
  }
  *out = std::move(loaded).value();
  return true;
}

int run_command(const std::vector<std::string>& files, std::optional<uint64_t> seed, int repeat,
                const std::string& report_dir) {
  bool all_passed = true;
  std::vector<Scenario> scenarios(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    if (!load(files[i], &scenarios[i])) return 2;
  }
  if (!report_dir.empty()) std::filesystem::create_directories(report_dir);
  for (size_t i = 0; i < files.size(); ++i) {
    RunOptions options;
    options.seed = seed;
    std::string first_digest;
    for (int attempt = 0; attempt < repeat; ++attempt) {
      const RunResult result = meridian::sim::run_scenario(scenarios[i], options);
      const std::string replay = replay_command(files[i], result.seed, false);
      if (attempt == 0) {
        std::cout << meridian::sim::format_summary(result, kRevision, replay) << std::endl;
        first_digest = result.digest;
        all_passed &= result.passed();
        if (!report_dir.empty()) {
          const std::string path =
              report_dir + "/" + result.scenario + "-seed" + std::to_string(result.seed) + ".json";
          std::ofstream(path) << meridian::sim::to_json(result, kRevision).dump(2) << "\n";
          std::cout << "report: " << path << "\n";
        }
      } else if (result.digest != first_digest) {
        std::cout << "NONDETERMINISM: replay " << attempt + 1 << " of " << result.scenario
                  << " has digest " << result.digest << ", the first had " << first_digest
                  << "\nreplay: " << replay << "\n";
        all_passed = false;
      } else {
        std::cout << "replay " << attempt + 1 << ": same digest " << result.digest << "\n";
      }
    }
    std::cout << std::string(100, '-') << "\n";
  }
  std::cout << (all_passed ? "all scenarios passed" : "SOME SCENARIOS FAILED") << "\n";
  return all_passed ? 0 : 1;
}

int sweep_command(const std::string& file, uint64_t seeds, uint64_t first_seed) {
  Scenario scenario;
  if (!load(file, &scenario)) return 2;
  uint64_t failed = 0;
  for (uint64_t seed = first_seed; seed < first_seed + seeds; ++seed) {
    RunOptions options;
    options.seed = seed;
    options.sweep = true;
    const RunResult result = meridian::sim::run_scenario(scenario, options);
    if (!result.passed()) {
      ++failed;
      std::cout << "seed " << seed << ": FAIL";
      if (!result.status.is_ok()) std::cout << " (" << result.status.to_string() << ")";
      for (const auto& c : result.checks) {
        if (!c.passed) std::cout << "  [" << c.name << ": " << c.detail << "]";
      }
      std::cout << "\n  replay: " << replay_command(file, seed, true) << "\n";
    }
  }
  std::cout << "sweep " << scenario.name << ": " << seeds - failed << " passed, " << failed
            << " failed" << std::endl;
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"meridian-sim: deterministic replays of Meridian scenario files"};
  app.require_subcommand(1);
  int exit_code = 0;

  std::vector<std::string> files;
  std::optional<uint64_t> seed;
  int repeat = 1;
  std::string report_dir = "sim-reports";
  CLI::App* run = app.add_subcommand("run", "Replay scenario files and check their expectations");
  run->add_option("files", files, "scenario files (YAML)")->required()->check(CLI::ExistingFile);
  run->add_option("--seed", seed, "run seed (default: the scenario's)");
  run->add_option("--repeat", repeat, "replays per scenario; digests must match")
      ->check(CLI::Range(1, 10));
  run->add_option("--report-dir", report_dir, "where JSON reports go ('' = none)")
      ->capture_default_str();
  run->callback([&] { exit_code = run_command(files, seed, repeat, report_dir); });

  std::string sweep_file;
  uint64_t seeds = 100, first_seed = 1;
  CLI::App* sweep = app.add_subcommand(
      "sweep", "Run many seeds at the scenario's sweep scale with randomised fault timings");
  sweep->add_option("file", sweep_file, "scenario file")->required()->check(CLI::ExistingFile);
  sweep->add_option("--seeds", seeds, "number of seeds")->capture_default_str();
  sweep->add_option("--first-seed", first_seed, "first seed")->capture_default_str();
  sweep->callback([&] { exit_code = sweep_command(sweep_file, seeds, first_seed); });

  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
