// Opening and closing the log, loading its tree from the store, backups.
#include "audit/log.h"

#include <fmt/format.h>

#include "audit/log_impl.h"

namespace interlock::audit {

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const LogOptions& options,
                                                 std::unique_ptr<store::AuditStore> store) {
  return Open(options, [&store]() -> Result<std::unique_ptr<store::AuditStore>> {
    return std::move(store);
  });
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const LogOptions& options,
                                                 const StoreOpener& open_store) {
  std::unique_ptr<AuditLog> log(new AuditLog());
  log->options_ = options;
  FileSystem& fs = *options.fs;
  if (auto made = fs.CreateDirectories(options.data_dir); !made) {
    return std::unexpected(made.error());
  }

  auto master =
      LoadMasterKey(fs, *options.random, options.master_key_env, options.master_key_file_env,
                    JoinPath(options.data_dir, "master.key"));
  if (!master) return std::unexpected(master.error());
  if (!master->warning.empty()) log->warnings_.push_back(master->warning);
  log->master_ = master->key;
  log->master_fingerprint_ = master->Fingerprint();
  log->index_key_ = DeriveKey(log->master_, "interlock audit actor index");
  log->row_key_ = DeriveKey(log->master_, "interlock audit row tag");
  log->state_key_ = DeriveKey(log->master_, "interlock state");

  std::array<uint8_t, 8> id_bytes;
  if (auto ok = options.random->Fill(id_bytes); !ok) return std::unexpected(ok.error());
  auto store = open_store();
  if (!store) return std::unexpected(store.error());
  log->store_ = std::move(*store);
  const std::string& db_path = log->store_->Location();
  auto log_id = log->store_->ClaimLogId(HexEncode(id_bytes));
  if (!log_id) return std::unexpected(log_id.error());
  log->origin_ = "interlock/audit/" + *log_id;

  // The checkpoint signing key: created on first use, owner-only.
  std::string key_path = JoinPath(options.data_dir, "audit-signing.key");
  if (!fs.Exists(key_path)) {
    auto fresh = NoteSigner::Generate(log->origin_, *options.random);
    if (!fresh) return std::unexpected(fresh.error());
    auto created = fs.CreatePrivateFile(key_path, fresh->SignerKey() + "\n");
    if (!created && created.error().kind() != ErrorKind::kAlreadyExists) {
      return std::unexpected(created.error());
    }
  }
  auto key_text = fs.ReadFile(key_path, 4096);
  if (!key_text) return std::unexpected(key_text.error());
  std::string_view trimmed = *key_text;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r')) {
    trimmed.remove_suffix(1);
  }
  auto signer = NoteSigner::FromSignerKey(trimmed);
  if (!signer) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("{}: {}", key_path, signer.error().message())));
  }
  if (signer->name() != log->origin_) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("{}: signs for log {}, but {} holds log {}", key_path,
                                           signer->name(), db_path, log->origin_)));
  }
  log->signer_.emplace(std::move(*signer));

  log->master_source_ = master->source;
  if (auto loaded = log->LoadKeys(); !loaded) return std::unexpected(loaded.error());

  log->state_ = std::make_unique<WriterState>(log->row_key_);
  if (auto loaded = log->LoadTree(); !loaded) return std::unexpected(loaded.error());
  // Refuse to run on state rows that are not what the log commits to.
  if (auto problem = log->CheckState(); !problem) {
    return std::unexpected(problem.error());
  } else if (*problem) {
    return std::unexpected(Error::Corruption(
        fmt::format("{}: {}; the state was changed outside Interlock (run interlock audit verify)",
                    db_path, **problem)));
  }
  log->writer_ = std::thread([raw = log.get()] { raw->WriterLoop(); });
  return log;
}

AuditLog::~AuditLog() {
  if (writer_.joinable()) {
    bool changed;
    {
      MutexLock lock(&mu_);
      changed = durable_size_ != state_->last_checkpoint_size;
    }
    if (changed) {
      Job job;
      job.checkpoint = true;
      // A failed final checkpoint loses nothing: the next writer signs one.
      [[maybe_unused]] auto signed_at_close = Submit(&job);
    }
    {
      MutexLock lock(&mu_);
      stopping_ = true;
    }
    work_cv_.SignalAll();
    writer_.join();
  }
}

Result<void> AuditLog::LoadKeys() {
  auto keys = store_->Keys();
  if (!keys) return std::unexpected(keys.error());
  for (const store::AuditKey& k : *keys) {
    if (k.master_fingerprint != master_fingerprint_) {
      return std::unexpected(Error::PermissionDenied(fmt::format(
          "{}: data key {} is wrapped by master key {}, but the master key loaded ({}) is {}",
          store_->Location(), k.id, k.master_fingerprint, master_source_, master_fingerprint_)));
    }
    {
      MutexLock lock(&keys_mu_);
      if (keys_.contains(k.id)) continue;
    }
    auto key = UnwrapKey(master_, k.wrapped, k.id);
    if (!key) return std::unexpected(key.error());
    MutexLock lock(&keys_mu_);
    keys_[k.id] = DataKey{*key, k.retention_class, k.period_end};
  }
  return Ok();
}

Result<void> AuditLog::LoadTree() {
  // Another process may have made data keys since: a batch that needs one
  // takes it rather than making a second of the same id.
  if (auto loaded = LoadKeys(); !loaded) return loaded;
  auto meta = store_->Meta();
  if (!meta) return std::unexpected(meta.error());
  WriterState& s = *state_;
  auto bindings = CurrentBindings();
  if (!bindings) return std::unexpected(bindings.error());
  s.bindings = std::move(*bindings);
  s.edge.clear();
  auto edge = store_->EdgeTiles();
  if (!edge) return std::unexpected(edge.error());
  for (store::AuditTile& t : *edge) s.edge[t.level] = std::move(t);
  TileNodes nodes(*store_);
  auto range = CompactRange::Load(nodes, meta->size);
  if (!range) return std::unexpected(range.error());
  s.range = std::move(*range);
  if (meta->size > 0) {
    std::vector<store::AuditRecord> last;
    if (auto ok = store_->ReadRecords(meta->size - 1, meta->size, last); !ok) return ok;
    if (!last.empty()) s.last_recorded_at = last.front().recorded_at;
  }
  auto checkpoints = store_->Checkpoints();
  if (!checkpoints) return std::unexpected(checkpoints.error());
  if (!checkpoints->empty()) {
    s.last_checkpoint_at = checkpoints->back().created_at;
    s.last_checkpoint_size = checkpoints->back().size;
    s.last_checkpoint_note = checkpoints->back().note;
  }
  Hash root = s.range.Root(s.hasher);
  MutexLock lock(&mu_);
  durable_size_ = meta->size;
  durable_root_ = root;
  return Ok();
}

uint64_t AuditLog::size() const {
  MutexLock lock(&mu_);
  return durable_size_;
}

LogStats AuditLog::stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

KeySummary AuditLog::Keys() const {
  KeySummary k;
  k.master_key_source = !options_.master_key_env.empty() ? "environment INTERLOCK_MASTER_KEY"
                        : !options_.master_key_file_env.empty()
                            ? "file " + options_.master_key_file_env
                            : "file " + JoinPath(options_.data_dir, "master.key");
  MutexLock lock(&keys_mu_);
  k.data_keys = keys_.size();
  for (const auto& [id, key] : keys_)
    k.newest_period_end = std::max(k.newest_period_end, key.period_end);
  return k;
}

Result<void> AuditLog::Backup(const std::string& path) {
  if (options_.fs->Exists(path)) {
    return std::unexpected(Error::AlreadyExists(fmt::format("{}: already exists", path)));
  }
  return store_->Backup(path);
}

}  // namespace interlock::audit
