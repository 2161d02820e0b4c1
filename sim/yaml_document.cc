#include "sim/yaml_document.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <sstream>

namespace meridian::sim::scenario_detail {
namespace {

// Remembers where a document's first node is.
class FirstNodeMark final : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> mark;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { see(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { see(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    see(m);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    see(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    see(m);
  }
  void OnMapEnd() override {}

 private:
  void see(const YAML::Mark& m) {
    if (!mark) mark = m;
  }
};

}  // namespace

std::optional<std::pair<int, std::string>> multiple_documents(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  FirstNodeMark first;
  FirstNodeMark second;
  if (!parser.HandleNextDocument(first) || !parser.HandleNextDocument(second)) return std::nullopt;
  const int line = second.mark ? second.mark->line + 1 : 1;
  if (first.mark && second.mark && first.mark->pos == second.mark->pos) {
    // No progress: the bug above. The character there is one no document may start with.
    const size_t pos = size_t(std::max(second.mark->pos, 0));
    return std::pair(line, "YAML syntax error: unexpected '" +
                               (pos < text.size() ? text.substr(pos, 1) : "") + "'");
  }
  return std::pair(line, "a scenario file holds one YAML document; found a second");
}

}  // namespace meridian::sim::scenario_detail
