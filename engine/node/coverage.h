// Coverage marks and fault points, after FoundationDB's CODE_PROBE and BUGGIFY.
//
//   COVER("read_repair");      // count that a rare branch ran; scenarios assert it did
//   if (BUGGIFY("slow_apply")) { ...inject a fault... }
//
// BUGGIFY is inert (always false) unless a simulator installs a FaultInjector, which decides,
// deterministically from the run seed, whether each named site is enabled in this run and how
// often it fires. Real deployments never install one. Both are single-threaded by design, like
// the engine that calls them.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace meridian {

class Coverage {
 public:
  static void hit(const char* name) { ++counts()[name]; }
  static uint64_t count(const std::string& name);
  static void reset() { counts().clear(); }
  // Every mark hit so far, in name order.
  static const std::map<std::string, uint64_t>& all() { return counts(); }

 private:
  static std::map<std::string, uint64_t>& counts();
};

class FaultInjector {
 public:
  virtual ~FaultInjector() = default;
  virtual bool should_fire(const char* site) = 0;

  static FaultInjector* installed() { return installed_; }
  // The simulator installs one for the duration of a run (nullptr to remove).
  static void install(FaultInjector* injector) { installed_ = injector; }

 private:
  static inline FaultInjector* installed_ = nullptr;
};

}  // namespace meridian

#define COVER(name) ::meridian::Coverage::hit(name)
#define BUGGIFY(site)                                   \
  (::meridian::FaultInjector::installed() != nullptr && \
   ::meridian::FaultInjector::installed()->should_fire(site))
