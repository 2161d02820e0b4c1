// `meridian`: the operator's command-line tool. See `meridian --help`.
#include <CLI/CLI.hpp>

#include "engine/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"meridian: operations tool for the Meridian geo-replicated vector store"};
  app.require_subcommand(1);
  int exit_code = 0;
  meridian::cli::add_shard_of(app, &exit_code);
  meridian::cli::add_inspect_record(app, &exit_code);
  meridian::cli::add_make_record(app, &exit_code);
  meridian::cli::add_demo(app, &exit_code);
  meridian::cli::add_make_segments(app, &exit_code);
  meridian::cli::add_verify_segment(app, &exit_code);
  meridian::cli::add_digest(app, &exit_code);
  meridian::cli::add_restore(app, &exit_code);
  meridian::cli::add_catch_up(app, &exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
