#include "store/fault_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "store/sqlite_audit_store.h"

namespace interlock::store {
namespace {

namespace fs = std::filesystem;

// A batch of one record at `index` and one state row, extending a log of
// `index` records.
AuditBatch OneRecord(uint64_t index) {
  AuditBatch batch;
  batch.base_size = index;
  AuditRecord& r = batch.records.emplace_back();
  r.index = index;
  r.recorded_at = 1'700'000'000'000 + static_cast<UnixMillis>(index);
  r.key_id = "k";
  r.event_type = "deploy";
  r.actor_tag = "actor";
  r.row_tag = "tag";
  r.payload = "sealed " + std::to_string(index);
  batch.state.push_back({"approval", "a1", "version " + std::to_string(index)});
  return batch;
}

class FaultStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("interlock_fault_store_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    faults_ = std::make_unique<FaultStore>(OpenInner());
    ASSERT_TRUE(faults_->ClaimLogId("0011223344556677").has_value());
  }
  void TearDown() override {
    faults_.reset();
    fs::remove_all(dir_);
  }

  std::unique_ptr<AuditStore> OpenInner() {
    auto store = SqliteAuditStore::OpenInDirectory(fs_, dir_.string());
    EXPECT_TRUE(store.has_value()) << store.error().message();
    return store ? std::move(*store) : nullptr;
  }

  // The size and the approval a1 of the store as a new store over the same
  // file sees them.
  std::pair<uint64_t, std::string> Reopened() {
    faults_.reset();
    auto store = OpenInner();
    auto meta = store->Meta();
    EXPECT_TRUE(meta.has_value());
    auto state = store->State({.kind = "approval"});
    EXPECT_TRUE(state.has_value());
    std::string a1 = state && !state->empty() ? state->front().value.value_or("") : "none";
    return {meta ? meta->size : 0, a1};
  }

  fs::path dir_;
  RealFileSystem fs_;
  std::unique_ptr<FaultStore> faults_;
};

TEST_F(FaultStoreTest, WithoutFaultsEveryCallIsForwardedAndCounted) {
  ASSERT_TRUE(faults_->Commit(OneRecord(0)).has_value());
  ASSERT_TRUE(faults_->Commit(OneRecord(1)).has_value());
  std::vector<AuditRecord> records;
  ASSERT_TRUE(faults_->ReadRecords(0, 2, records).has_value());
  EXPECT_EQ(records.size(), 2u);
  auto meta = faults_->Meta();
  ASSERT_TRUE(meta.has_value());
  EXPECT_EQ(meta->log_id, "0011223344556677");
  EXPECT_EQ(meta->size, 2u);
  EXPECT_EQ(faults_->Location(), (dir_ / "audit.db").string());
  EXPECT_EQ(faults_->Calls(StoreOp::kCommit), 2u);
  EXPECT_EQ(faults_->Calls(StoreOp::kReadRecords), 1u);
  EXPECT_EQ(faults_->Calls(StoreOp::kMeta), 1u);
  EXPECT_EQ(faults_->Calls(StoreOp::kKeys), 0u);
  faults_->ResetCounters();
  EXPECT_EQ(faults_->Calls(StoreOp::kCommit), 0u);
}

// The version of a kind grows once per commit that writes rows of it,
// whatever their number, and is seen by another connection to the file.
TEST_F(FaultStoreTest, StateVersionGrowsOncePerCommitOfItsKind) {
  EXPECT_EQ(faults_->StateVersion("approval"), 0u);
  ASSERT_TRUE(faults_->Commit(OneRecord(0)).has_value());
  AuditBatch two = OneRecord(1);
  two.state.push_back({"approval", "a2", "another"});
  two.state.push_back({"token", "t1", std::nullopt});  // a deletion counts
  ASSERT_TRUE(faults_->Commit(two).has_value());
  AuditBatch none = OneRecord(2);
  none.state.clear();
  ASSERT_TRUE(faults_->Commit(none).has_value());
  EXPECT_EQ(faults_->StateVersion("approval"), 2u);
  EXPECT_EQ(faults_->StateVersion("token"), 1u);
  EXPECT_EQ(faults_->StateVersion("emergency_stop"), 0u);
  EXPECT_EQ(OpenInner()->StateVersion("approval"), 2u);

  faults_->FailAfter(StoreOp::kStateVersion, 0, Error::Io("read failed"), /*sticky=*/false);
  EXPECT_EQ(faults_->StateVersion("approval").error().message(), "read failed");
}

TEST_F(FaultStoreTest, AFailedCommitReachesNothingAndTheNextGoesThrough) {
  ASSERT_TRUE(faults_->Commit(OneRecord(0)).has_value());
  faults_->FailAfter(StoreOp::kCommit, 0, Error::Io("fsync failed"), /*sticky=*/false);
  auto failed = faults_->Commit(OneRecord(1));
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().kind(), ErrorKind::kIo);
  EXPECT_EQ(failed.error().message(), "fsync failed");
  EXPECT_EQ(faults_->inner().Meta()->size, 1u);
  ASSERT_TRUE(faults_->Commit(OneRecord(1)).has_value());
  EXPECT_EQ(faults_->Calls(StoreOp::kCommit), 3u);
  EXPECT_EQ(Reopened(), (std::pair<uint64_t, std::string>{2, "version 1"}));
}

TEST_F(FaultStoreTest, SkipLetsThatManyCallsThroughAndStickyFailsUntilCleared) {
  faults_->FailAfter(kStoreReads, 1, Error::Io("read failed"), /*sticky=*/true);
  EXPECT_TRUE(faults_->Keys().has_value());
  EXPECT_TRUE(faults_->Meta().has_value());
  EXPECT_FALSE(faults_->Keys().has_value());
  EXPECT_FALSE(faults_->Keys().has_value());
  EXPECT_FALSE(faults_->Meta().has_value());
  EXPECT_TRUE(faults_->AllState().has_value());  // each op skips on its own
  EXPECT_FALSE(faults_->AllState().has_value());
  EXPECT_TRUE(faults_->Commit(OneRecord(0)).has_value());  // not a read
  faults_->Clear();
  EXPECT_TRUE(faults_->Keys().has_value());
  EXPECT_EQ(faults_->Calls(StoreOp::kKeys), 4u);
}

TEST_F(FaultStoreTest, FailAfterReplacesThePlanForItsOpOnly) {
  faults_->FailAfter(StoreOp::kKeys, 0, Error::Io("keys"), /*sticky=*/true);
  faults_->FailAfter(StoreOp::kCheckpoints, 0, Error::Io("checkpoints"), /*sticky=*/true);
  faults_->FailAfter(StoreOp::kKeys, 1, Error::Io("keys later"), /*sticky=*/false);
  EXPECT_TRUE(faults_->Keys().has_value());
  EXPECT_EQ(faults_->Keys().error().message(), "keys later");
  EXPECT_TRUE(faults_->Keys().has_value());
  EXPECT_EQ(faults_->Checkpoints().error().message(), "checkpoints");
}

// Power loss: the commits after the crash point are acknowledged, and a
// store opened again over the file holds exactly those before it.
TEST_F(FaultStoreTest, PowerLossKeepsOnlyTheCommitsMadeDurable) {
  ASSERT_TRUE(faults_->Commit(OneRecord(0)).has_value());
  faults_->PowerLossAfter(1);
  ASSERT_TRUE(faults_->Commit(OneRecord(1)).has_value());
  ASSERT_TRUE(faults_->Commit(OneRecord(2)).has_value());  // acknowledged, lost
  ASSERT_TRUE(faults_->Commit(OneRecord(3)).has_value());  // acknowledged, lost
  EXPECT_EQ(faults_->LostCommits(), 2u);
  EXPECT_EQ(faults_->Calls(StoreOp::kCommit), 4u);
  EXPECT_EQ(Reopened(), (std::pair<uint64_t, std::string>{2, "version 1"}));
}

TEST_F(FaultStoreTest, AFailedCommitIsNeitherDurableNorLost) {
  faults_->PowerLossAfter(1);
  faults_->FailAfter(StoreOp::kCommit, 0, Error::Io("write failed"), /*sticky=*/false);
  EXPECT_FALSE(faults_->Commit(OneRecord(0)).has_value());  // failed: neither durable nor lost
  ASSERT_TRUE(faults_->Commit(OneRecord(0)).has_value());   // durable
  ASSERT_TRUE(faults_->Commit(OneRecord(1)).has_value());   // lost
  EXPECT_EQ(faults_->LostCommits(), 1u);
  EXPECT_EQ(Reopened(), (std::pair<uint64_t, std::string>{1, "version 0"}));
}

}  // namespace
}  // namespace interlock::store
