// meridian make-record ...: encode one log record from flags (for tests, debugging and replays).
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/cli/commands.h"
#include "engine/core/record_codec.h"

namespace meridian::cli {

namespace {

bool parse_embedding(const std::string& text, std::vector<float>* out, std::string* error) {
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      out->push_back(std::stof(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      *error = "embedding element '" + item + "' is not a number";
      return false;
    }
  }
  return true;
}

}  // namespace

void add_make_record(CLI::App& app, int* exit_code) {
  struct Options {
    std::string op = "upsert", collection, id, embedding, output = "-";
    std::vector<std::string> fields, tags, unset_fields, removed_tags;
    uint64_t timestamp = 0, sequence = 0;
    uint16_t region = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd =
      app.add_subcommand("make-record", "Encode one mutation record to FILE or stdout.");
  cmd->add_option("--op", o->op, "upsert, delete or patch")->capture_default_str();
  cmd->add_option("--collection", o->collection, "collection name")->required();
  cmd->add_option("--id", o->id, "vector id")->required();
  cmd->add_option("--embedding", o->embedding, "comma-separated floats (upsert)");
  cmd->add_option("--field", o->fields, "payload field KEY=VALUE (repeatable)");
  cmd->add_option("--tag", o->tags, "payload tag (repeatable)");
  cmd->add_option("--unset-field", o->unset_fields, "field to remove (patch, repeatable)");
  cmd->add_option("--remove-tag", o->removed_tags, "tag to remove (patch, repeatable)");
  cmd->add_option("--timestamp", o->timestamp, "hybrid logical timestamp")->required();
  cmd->add_option("--region", o->region, "origin region id")->required();
  cmd->add_option("--sequence", o->sequence, "origin sequence number")->required();
  cmd->add_option("--output,-o", o->output, "output file ('-': stdout)")->capture_default_str();
  cmd->callback([o, exit_code] {
    *exit_code = 2;
    Mutation m;
    if (o->op == "upsert")
      m.op = Op::kUpsert;
    else if (o->op == "delete")
      m.op = Op::kDelete;
    else if (o->op == "patch")
      m.op = Op::kPatch;
    else {
      std::cerr << "meridian make-record: --op must be upsert, delete or patch\n";
      return;
    }
    m.collection = o->collection;
    m.vector_id = o->id;
    std::string error;
    if (!o->embedding.empty() && !parse_embedding(o->embedding, &m.embedding, &error)) {
      std::cerr << "meridian make-record: " << error << "\n";
      return;
    }
    for (const auto& kv : o->fields) {
      const size_t eq = kv.find('=');
      if (eq == std::string::npos) {
        std::cerr << "meridian make-record: --field '" << kv << "' is not KEY=VALUE\n";
        return;
      }
      m.payload.fields[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    m.payload.tags.insert(o->tags.begin(), o->tags.end());
    m.unset_fields.insert(o->unset_fields.begin(), o->unset_fields.end());
    m.removed_tags.insert(o->removed_tags.begin(), o->removed_tags.end());
    m.timestamp = o->timestamp;
    m.origin_region = o->region;
    m.origin_sequence = o->sequence;
    if (Status s = validate(m); !s.is_ok()) {
      std::cerr << "meridian make-record: " << s.to_string() << "\n";
      return;
    }
    std::string bytes;
    encode_mutation(m, &bytes);
    if (o->output == "-") {
      std::cout.write(bytes.data(), std::streamsize(bytes.size()));
    } else {
      std::ofstream out(o->output, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), std::streamsize(bytes.size()));
      if (!out) {
        std::cerr << "meridian make-record: cannot write '" << o->output << "'\n";
        *exit_code = 1;
        return;
      }
    }
    *exit_code = 0;
  });
}

}  // namespace meridian::cli
