// DynamoLeaseStore: the lease table (lease_store.h) as a DynamoDB table on
// any endpoint that speaks the API with conditional writes: DynamoDB,
// ScyllaDB Alternator, or Eddy itself. Table `eddy-leases-<group>`, hash
// key leaseKey (S), on-demand capacity; created on first use.
//
// Items (attribute names follow the Kinesis Client Library's lease table
// where the meaning is the same):
//   lease   leaseKey = <shard id>, eddyGroup, leaseOwner (absent when
//           free), pendingOwner (a runner it is being handed to; absent
//           when none), leaseCounter (N), checkpoint (S: TRIM_HORIZON, LATEST,
//           SHARD_END, AT_SEQUENCE_NUMBER:<n>, AFTER_SEQUENCE_NUMBER:<n>),
//           parentShardIds (L of S), ownerSwitchesSinceCheckpoint (N),
//           checkpointTime and iteratorAgeMs (N, ms), and with an open
//           tumbling window windowStart, windowEnd (N, ms), windowState (B).
//   group   leaseKey = "eddy:group": eddyLeaseTable = "1", eddyGroup,
//           streamArn, tableName, createdMs.
//   runner  leaseKey = "eddy:runner:<id>": eddyGroup, host, pid, startedMs,
//           heartbeatMs, metrics.
// Conditional writes use ConditionExpression on leaseOwner and
// leaseCounter; reads are strongly consistent.
//
// The operations a runner identity needs on the table are listed in
// docs/scaling.md.
//
// Thread-safety: as LeaseStore.
#ifndef EDDY_RUNTIME_RUNNER_DYNAMO_LEASE_STORE_H_
#define EDDY_RUNTIME_RUNNER_DYNAMO_LEASE_STORE_H_

#include <spdlog/logger.h>

#include <memory>
#include <string>

#include "dynamo_client.h"
#include "runner/lease_store.h"

namespace eddy::runtime::runner {

class DynamoLeaseStore : public LeaseStore {
 public:
  // "eddy-leases-" + group.
  static std::string TableName(const std::string& group);

  DynamoLeaseStore(std::shared_ptr<DynamoTransport> transport,
                   std::string group, std::shared_ptr<spdlog::logger> logger);

  Status Prepare(const LeaseGroup& group) override;
  Result<LeaseGroup> ReadGroup() override;
  Result<LeaseTableSnapshot> Scan() override;
  Result<Lease> GetLease(const std::string& shard_id) override;
  Status CreateLease(const Lease& lease) override;
  Status Renew(Lease* lease) override;
  Status Take(Lease* lease, const std::string& new_owner) override;
  Status RequestHandoff(Lease* lease, const std::string& to) override;
  Status Transfer(Lease* lease) override;
  Status Release(Lease* lease) override;
  Status Checkpoint(Lease* lease, const ShardCheckpoint& checkpoint,
                    int64_t now_ms) override;
  Status DeleteLease(const Lease& lease) override;
  Status PutRunner(const RunnerRecord& runner) override;
  Status DeleteRunner(const std::string& id) override;

  const std::string& table() const { return table_; }

 private:
  Status WaitActive();
  Status CheckKeySchema(const rapidjson::Value& table);
  Status CheckGroup(const rapidjson::Value& item, const LeaseGroup& group);

  std::shared_ptr<DynamoTransport> transport_;
  std::string group_;
  std::string table_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace eddy::runtime::runner

#endif  // EDDY_RUNTIME_RUNNER_DYNAMO_LEASE_STORE_H_
