// Subcommands of the `meridian` ops CLI. Each add_* function registers one subcommand on the
// app; its callback runs the command and sets *exit_code (0 success, 1 failure, 2 bad usage).
#pragma once

#include <CLI/CLI.hpp>

namespace meridian::cli {

void add_shard_of(CLI::App& app, int* exit_code);
void add_inspect_record(CLI::App& app, int* exit_code);
void add_make_record(CLI::App& app, int* exit_code);
void add_demo(CLI::App& app, int* exit_code);
// Segment files, digests and delta catch-up.
void add_make_segments(CLI::App& app, int* exit_code);
void add_verify_segment(CLI::App& app, int* exit_code);
void add_digest(CLI::App& app, int* exit_code);
void add_restore(CLI::App& app, int* exit_code);
void add_catch_up(CLI::App& app, int* exit_code);

}  // namespace meridian::cli
