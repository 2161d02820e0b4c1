#include "sim/scenario_loader.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>

#include "sim/scenario_parser.h"
#include "sim/yaml_fields.h"

// The loader is split by job: yaml_fields.h (strict field reading, error messages),
// yaml_document.h (exactly one YAML document), scenario_faults.h (fault rules) and
// scenario_parser.h (the sections of a scenario file).

namespace meridian::sim {
namespace {

constexpr size_t kMaxFileBytes = 4 << 20;

}  // namespace

using scenario_detail::LoadError;
using scenario_detail::Parser;

Result<Scenario> parse_scenario(const std::string& yaml_text, const std::string& source_name) {
  try {
    return Parser(source_name).parse(yaml_text);
  } catch (const LoadError& e) {
    return Status::invalid_argument(e.message);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 1 : e.mark.line + 1;
    return Status::invalid_argument(source_name + ":" + std::to_string(line) + ": " + e.msg);
  } catch (const std::exception& e) {
    return Status::invalid_argument(source_name + ":1: cannot load scenario: " + e.what());
  }
}

Result<Scenario> load_scenario_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found(path + ": cannot open: " + std::strerror(errno));
  std::string text(kMaxFileBytes + 1, '\0');
  in.read(text.data(), std::streamsize(text.size()));
  if (in.bad()) return Status::invalid_argument(path + ": cannot read: " + std::strerror(errno));
  text.resize(size_t(in.gcount()));
  if (text.size() > kMaxFileBytes) {
    return Status::too_large(path + ": larger than " + std::to_string(kMaxFileBytes) +
                             " bytes; not a scenario file");
  }
  return parse_scenario(text, path);
}

}  // namespace meridian::sim
