#include "sim/runner.h"

#include <omp.h>

#include <algorithm>
#include <functional>
#include <map>

#include "engine/node/coverage.h"
#include "sim/checked_world.h"
#include "sim/faults.h"
#include "sim/workload.h"
#include "sim/world.h"

namespace meridian::sim {

namespace {

// BUGGIFY in the simulator: each fault site is enabled for a whole run with probability 1/4
// (decided from the run seed and the site's name), and then fires on 5 % of its calls.
class SimFaultInjector final : public FaultInjector {
 public:
  explicit SimFaultInjector(uint64_t seed) : seed_(seed), rng_(Rng::derive(seed, "buggify")) {}
  bool should_fire(const char* site) override {
    auto it = enabled_.find(site);
    if (it == enabled_.end()) {
      Rng decide = Rng::derive(seed_, std::string("buggify/") + site);
      it = enabled_.emplace(site, decide.chance(0.25)).first;
    }
    return it->second && rng_.chance(0.05);
  }

 private:
  uint64_t seed_;
  Rng rng_;
  std::map<std::string, bool> enabled_;
};

bool converged(World& world) {
  const CheckedWorld run(world);
  for (size_t r = 0; r < world.region_count(); ++r) {
    if (world.node(RegionIndex(r)) == nullptr) return false;
    if (world.node(RegionIndex(r))->pending_writes() > 0) return false;
  }
  for (const CollectionSpec& c : world.scenario().collections) {
    for (size_t r = 1; r < world.region_count(); ++r) {
      if (!same_collected_state(run, c.config.name, 0, RegionIndex(r))) return false;
    }
  }
  return true;
}

// Folds every region's final replica state into the digest.
void fold_final_state(World& world) {
  for (size_t r = 0; r < world.region_count(); ++r) {
    node::RegionNode* n = world.node(RegionIndex(r));
    if (n == nullptr) continue;
    for (const CollectionSpec& c : world.scenario().collections) {
      const Collection* col = n->collection(c.config.name);
      std::string state = world.region_name(RegionIndex(r)) + "/" + c.config.name + ":" +
                          std::to_string(col->live_count());
      for (uint32_t s = 0; s < c.config.num_shards; ++s) {
        state += " " + col->shard(s).version_vector().to_string();
      }
      world.trace().fold(state);
    }
  }
}

}  // namespace

bool RunResult::passed() const {
  if (!status.is_ok()) return false;
  return std::all_of(checks.begin(), checks.end(), [](const CheckOutcome& c) { return c.passed; });
}

void DurabilityStats::add(const node::NodeCounters& c) {
  checkpoints_written += c.checkpoints_written;
  records_segments_written += c.records_segments_written;
  compactions += c.compactions;
  segments_loaded += c.segments_loaded;
  segments_rejected += c.segments_rejected;
  shards_recovered_from_peer += c.shards_recovered_from_peer;
  manifests_rejected += c.manifests_rejected;
  writes_refused_recovering += c.writes_refused_recovering;
  catch_ups_installed += c.catch_ups_installed;
  catch_up_failures += c.catch_up_failures;
  catch_up_bytes += c.catch_up_bytes;
  catch_up_full_bytes += c.catch_up_full_bytes;
  tombstones_collected += c.tombstones_collected;
  writer_conflicts += c.writer_conflicts;
}

bool DurabilityStats::any() const {
  return restarts + segments_rejected + manifests_rejected + catch_ups_installed +
             catch_up_failures >
         0;
}

Scenario sweep_variant(const Scenario& scenario, uint64_t seed) {
  Scenario s = scenario;
  const SweepSpec sweep = scenario.sweep.value_or(SweepSpec{scenario.duration_ns, 1.0});
  s.duration_ns = sweep.duration_ns > 0 ? sweep.duration_ns : scenario.duration_ns;
  for (OpRates& r : s.workload.rates) {
    r.upserts_per_s *= sweep.rates_scale;
    r.deletes_per_s *= sweep.rates_scale;
    r.patches_per_s *= sweep.rates_scale;
    r.searches_per_s *= sweep.rates_scale;
  }
  s.workload.session_reads_per_s *= sweep.rates_scale;
  Rng rng = Rng::derive(seed, "sweep/fault-times");
  std::vector<FaultSpec> faults;
  for (FaultSpec f : s.faults) {
    f.duration_ns = std::min(f.duration_ns, s.duration_ns / 2);
    const TimeNs latest_start = s.duration_ns - f.duration_ns;
    f.at_ns = latest_start > 0 ? TimeNs(rng.next_unit() * double(latest_start)) : 0;
    faults.push_back(f);
  }
  s.faults = std::move(faults);
  return s;
}

RunResult run_scenario(const Scenario& input, const RunOptions& options) {
  RunResult result;
  const uint64_t seed = options.seed.value_or(input.seed);
  const Scenario scenario = options.sweep ? sweep_variant(input, seed) : input;
  result.scenario = scenario.name;
  result.source = scenario.source;
  result.seed = seed;
  result.faulty_ns = scenario.duration_ns;

  // The simulator is one thread by design. FAISS would otherwise fork an OpenMP team for every
  // single-query search and single insert; on a 2-core machine the fork/join and spin-waiting
  // cost more than the work (PERF.md's threading trap) and threads would be a source of
  // nondeterminism in index construction.
  omp_set_num_threads(1);
  Coverage::reset();
  SimFaultInjector injector(seed);
  FaultInjector::install(&injector);
  struct Uninstall {
    ~Uninstall() { FaultInjector::install(nullptr); }
  } uninstall;

  World world(scenario, seed);
  if (Status s = world.setup(); !s.is_ok()) {
    result.status = s;
    return result;
  }
  result.setup_ns = world.start_time();
  FaultRunner faults(world);
  if (Status s = faults.schedule(scenario.faults, scenario.duration_ns); !s.is_ok()) {
    result.status = s;
    return result;
  }
  for (const FaultSpec& f : faults.scheduled()) {
    result.faults.push_back(FaultRunner::describe(scenario, f));
  }
  Workload workload(world);
  const TimeNs faulty_end = world.start_time() + scenario.duration_ns;
  result.max_backlog.assign(world.region_count(), std::vector<uint64_t>(world.region_count(), 0));
  std::function<void()> sample_backlog = [&] {
    for (RegionIndex to = 0; to < world.region_count(); ++to) {
      node::RegionNode* n = world.node(to);
      if (n == nullptr) continue;
      std::map<RegionId, uint64_t> per_origin;
      for (const auto& lag : n->replication_lag()) per_origin[lag.origin] += lag.backlog();
      for (RegionIndex from = 0; from < world.region_count(); ++from) {
        const uint64_t backlog = per_origin[scenario.regions[from].id];
        result.max_backlog[to][from] = std::max(result.max_backlog[to][from], backlog);
      }
    }
    if (world.scheduler().now() < faulty_end + scenario.liveness_ns) {
      world.scheduler().after(env::kSecond, sample_backlog);
    }
  };
  world.scheduler().after(env::kSecond, sample_backlog);
  workload.start(faulty_end);
  world.scheduler().run_until(faulty_end);

  // Liveness phase: heal everything, stop the workload, require convergence in bounded time.
  faults.heal_all();
  world.trace().note(world.scheduler().now(), "liveness phase: faults healed");
  const TimeNs step = 250 * env::kMillisecond;
  for (TimeNs t = step; t <= scenario.liveness_ns; t += step) {
    world.scheduler().run_until(faulty_end + t);
    if (converged(world)) {
      result.converged_after_ns = t;
      break;
    }
  }
  world.trace().note(world.scheduler().now(), "run ends");
  fold_final_state(world);

  const CheckedWorld checked(world);
  result.metrics = compute_metrics(checked);
  result.checks = check(checked, result.metrics);
  result.coverage = Coverage::all();
  result.durability.assign(world.region_count(), DurabilityStats{});
  for (RegionIndex r = 0; r < world.region_count(); ++r) {
    for (const node::NodeCounters& c : world.crashed_node_counters(r)) {
      result.durability[r].add(c);
      ++result.durability[r].restarts;
    }
    if (world.node(r) != nullptr) result.durability[r].add(world.node(r)->counters());
    // The simulator runs one node per region and its log fences a crashed one's producer, so a
    // node that saw another writer's record in its own log (own_writer_check.h) is mistaken:
    // it refused writes for nothing; so is one that yielded to another writer's heartbeat.
    // Reported as a failed check only then.
    const std::string stopped = world.node(r) != nullptr ? world.node(r)->writes_stopped() : "";
    if (result.durability[r].writer_conflicts > 0 || !stopped.empty()) {
      result.checks.push_back({"single_writer[" + world.region_name(r) + "]", false,
                               std::to_string(result.durability[r].writer_conflicts) +
                                   " records in its own log taken for another writer's" +
                                   (stopped.empty() ? "" : "; writes stopped: " + stopped)});
    }
  }
  result.stale_searches.assign(world.region_count(), 0);
  for (const RequestSample& r : world.trace().requests()) {
    if (r.kind == RequestKind::kSearch || r.kind == RequestKind::kSessionSearch) {
      ++(r.cost_modelled ? result.cost_modelled_searches : result.exact_searches);
      if (r.ok && r.stale) ++result.stale_searches[*scenario.find_region(r.client_region)];
    }
  }
  result.events = world.scheduler().events_run();
  result.digest = world.trace().digest_hex();
  return result;
}

}  // namespace meridian::sim
