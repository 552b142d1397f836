// Runner: `eddy runner`, the trigger dispatcher and its workers without a
// store, on the stream of a table at any DynamoDB Streams endpoint
// (DESIGN.md "Beyond one machine"). Runners started with the same group
// share the stream's shards through a lease table (lease_coordinator.h);
// each shard they hold is delivered by the server's own ShardDelivery
// (batching, filters, retries, bisect, partial batch failures, on-failure
// destinations, parallelization, tumbling windows) to the same handler
// libraries, in eddy-worker processes.
//
// Start checks everything a runner needs before it runs, so that bad input
// ends the process with a clear error instead of a runner that retries
// forever: the credentials, the endpoint (reachable, accepting the
// identity), the table and its stream, the rights the runner's calls need
// (DescribeTable, DescribeStream, GetShardIterator, GetRecords, the lease
// table's), the lease table (ours, for this stream), the handler library
// and an on-failure table. Once running, outages of the endpoint are
// ridden through: reads back off, leases lapse and are taken again.
//
// Thread-safety: Start, Shutdown and MetricsText from any thread.
#ifndef EDDY_RUNTIME_RUNNER_RUNNER_H_
#define EDDY_RUNTIME_RUNNER_RUNNER_H_

#include <spdlog/logger.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dispatcher/remote_stream_source.h"
#include "dispatcher/shard_delivery.h"
#include "dispatcher/trigger_config.h"
#include "dispatcher/worker_pool.h"
#include "handler_dir.h"
#include "http_server.h"
#include "runner/dynamo_lease_store.h"
#include "runner/lease_coordinator.h"

namespace eddy::runtime::runner {

struct RunnerOptions {
  // The table's endpoint (DescribeTable; on-failure tables), the Streams
  // API's ("" : the same, or streams.dynamodb.<region>.amazonaws.com for
  // dynamodb.<region>.amazonaws.com) and the lease table's ("": endpoint).
  std::string endpoint;
  std::string streams_endpoint;
  std::string lease_endpoint;
  std::string region;  // "": the standard chain, else us-east-1.
  std::string ca_bundle;
  std::string group;
  // The trigger's options, as `eddy trigger create` takes them: table,
  // handler (a path; or a name inside handler_dir), batch size, ...
  // Its name is the group's.
  dispatcher::TriggerConfig config;
  std::string handler_dir;  // "": the handler's directory.
  int64_t lease_duration_ms = 10'000;
  int64_t poll_interval_ms = 250;
  // GET /metrics and /healthz on this port (0: a free one; -1: none).
  std::string metrics_host = "127.0.0.1";
  int metrics_port = -1;
  std::string worker_binary;  // "": eddy-worker beside this program.
  std::string worker_log_level = "info";
  std::string id;  // "": <host>-<pid>-<random>.
  std::shared_ptr<spdlog::logger> logger;
};

class Runner : private LeaseCoordinator::Shards {
 public:
  // Checks and starts (see the header comment). InvalidArgument/NotFound
  // say what is wrong; Busy that the endpoint cannot be reached.
  static Result<std::unique_ptr<Runner>> Start(RunnerOptions options);

  ~Runner() override;
  // graceful (SIGTERM): the deliveries finish their invocations in
  // flight and checkpoint, then every lease is released so other runners
  // take the shards at once. Not graceful: everything stops; the leases
  // lapse (as after kill -9, but without leaving workers).
  void Shutdown(bool graceful);

  const std::string& id() const { return options_.id; }
  // The bound metrics port, or -1.
  int metrics_port() const;
  std::string MetricsText();

 private:
  explicit Runner(RunnerOptions options) : options_(std::move(options)) {}
  Status Init();
  Status CheckAccess();
  Status CheckFailureTable();
  void Loop();
  void Wake();
  void Reap(bool wait);

  // LeaseCoordinator::Shards
  void Start(const Lease& lease) override;
  void Stop(const std::string& shard_id) override;
  bool Stopped(const std::string& shard_id) override;

  RunnerOptions options_;
  std::string region_;
  std::string account_;
  std::string failure_hash_key_;  // Of a "table:" destination.
  std::shared_ptr<DynamoTransport> tables_;
  std::unique_ptr<dispatcher::RemoteStreamSource> source_;
  dispatcher::StreamInfo stream_;
  std::unique_ptr<DynamoLeaseStore> leases_;
  std::unique_ptr<LeaseCoordinator> coordinator_;
  std::unique_ptr<dispatcher::WorkerPool> pool_;
  // The workers' whole environment (dispatcher::WorkerEnvironment): the
  // trigger options' --env, not this process's.
  std::shared_ptr<const std::vector<std::string>> environment_;
  std::unique_ptr<HttpServer> metrics_;
  dispatcher::TriggerMetrics metrics_counters_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;   // Guarded by mu_.
  bool woken_ = false;  // Guarded by mu_.
  std::map<std::string, std::unique_ptr<dispatcher::ShardDelivery>>
      deliveries_;  // Guarded by mu_.
  std::vector<std::unique_ptr<dispatcher::ShardDelivery>>
      stopping_;  // Guarded by mu_.
  std::thread loop_;
  bool stopped_ = false;  // Guarded by mu_.
};

}  // namespace eddy::runtime::runner

#endif  // EDDY_RUNTIME_RUNNER_RUNNER_H_
