#include "auth/identity_store.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

namespace eddy::runtime::auth {
namespace {

bool ValidUserName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' ||
          c == '=' || c == ',' || c == '.' || c == '@' || c == '-')) {
      return false;
    }
  }
  return true;
}

bool ValidAccessKeyId(std::string_view key) {
  if (key.size() < 16 || key.size() > 128) return false;
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

Status ReadString(const rapidjson::Value& v, const std::string& where,
                  std::string* out) {
  if (!v.IsString())
    return Status::InvalidArgument(where + " must be a string");
  out->assign(v.GetString(), v.GetStringLength());
  return Status::OK();
}

}  // namespace

Result<std::shared_ptr<const IdentitySet>> IdentitySet::Parse(
    std::string_view json, std::string_view account_id, uint64_t generation) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return Status::InvalidArgument(
        std::string("not valid JSON: ") +
        rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
        std::to_string(doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) {
    return Status::InvalidArgument(
        "must be a JSON object: {\"identities\": [...]}");
  }
  std::shared_ptr<IdentitySet> set(new IdentitySet());
  set->generation_ = generation;
  set->account_id_ = std::string(account_id);
  const rapidjson::Value* identities = nullptr;
  for (const auto& m : doc.GetObject()) {
    const std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (name != "identities") {
      return Status::InvalidArgument("unknown member \"" + std::string(name) +
                                     "\" (expected identities)");
    }
    identities = &m.value;
  }
  if (identities == nullptr || !identities->IsArray()) {
    return Status::InvalidArgument("needs \"identities\": a list");
  }
  std::unordered_map<std::string, size_t> names;
  size_t index = 0;
  for (const auto& json_identity : identities->GetArray()) {
    const std::string where = "identities[" + std::to_string(index++) + "]";
    if (!json_identity.IsObject()) {
      return Status::InvalidArgument(where + " must be an object");
    }
    auto identity = std::make_unique<Identity>();
    bool has_policy = false;
    for (const auto& m : json_identity.GetObject()) {
      const std::string_view name(m.name.GetString(), m.name.GetStringLength());
      const std::string member = where + "." + std::string(name);
      Status s;
      if (name == "name") {
        s = ReadString(m.value, member, &identity->name);
      } else if (name == "accessKeyId") {
        s = ReadString(m.value, member, &identity->access_key_id);
      } else if (name == "secretAccessKey") {
        s = ReadString(m.value, member, &identity->secret_access_key);
      } else if (name == "sessionToken") {
        s = ReadString(m.value, member, &identity->session_token);
      } else if (name == "policy") {
        Result<Policy> policy = Policy::Parse(m.value);
        if (!policy.ok()) {
          return Status::InvalidArgument(member + ": " +
                                         policy.status().message());
        }
        identity->policy = std::move(*policy);
        has_policy = true;
      } else {
        return Status::InvalidArgument(
            where + ": unknown member \"" + std::string(name) +
            "\" (expected name, accessKeyId, secretAccessKey, sessionToken, "
            "policy)");
      }
      if (!s.ok()) return s;
    }
    if (!ValidUserName(identity->name)) {
      return Status::InvalidArgument(
          where +
          ".name must be 1-64 characters of letters, digits and _+=,.@-");
    }
    const std::string who = where + " (\"" + identity->name + "\")";
    if (!ValidAccessKeyId(identity->access_key_id)) {
      return Status::InvalidArgument(
          who + ": accessKeyId must be 16-128 letters and digits");
    }
    if (identity->secret_access_key.empty()) {
      return Status::InvalidArgument(who + ": secretAccessKey is required");
    }
    if (!has_policy) {
      return Status::InvalidArgument(
          who +
          ": policy is required (an identity without one can do "
          "nothing)");
    }
    if (!names.emplace(identity->name, index).second) {
      return Status::InvalidArgument(who + ": the name is used twice");
    }
    set->identities_.push_back(std::move(identity));
  }
  for (const auto& identity : set->identities_) {
    if (!set->by_key_.emplace(identity->access_key_id, identity.get()).second) {
      return Status::InvalidArgument("identity \"" + identity->name +
                                     "\": its accessKeyId is used twice");
    }
    identity->arn =
        "arn:aws:iam::" + set->account_id_ + ":user/" + identity->name;
  }
  return std::shared_ptr<const IdentitySet>(std::move(set));
}

const Identity* IdentitySet::Find(std::string_view access_key_id) const {
  auto it = by_key_.find(access_key_id);
  return it == by_key_.end() ? nullptr : it->second;
}

Status CheckPrivateFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::IOError("cannot read " + path + ": " + strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    snprintf(mode, sizeof(mode), "%04o", st.st_mode & 07777);
    return Status::InvalidArgument(
        path + " holds secrets but is accessible to group or others (mode " +
        mode + "); make it private: chmod 600 " + path);
  }
  return Status::OK();
}

IdentityStore::IdentityStore(Options options) : options_(std::move(options)) {}

Result<std::unique_ptr<IdentityStore>> IdentityStore::Open(Options options) {
  std::unique_ptr<IdentityStore> store(new IdentityStore(std::move(options)));
  {
    std::lock_guard<std::mutex> lock(store->mu_);
    if (Status s = store->LoadLocked(); !s.ok()) return s;
  }
  if (store->options_.poll_interval_ms > 0) {
    store->watcher_ = std::thread([s = store.get()] { s->Watch(); });
  }
  return store;
}

IdentityStore::~IdentityStore() {
  {
    std::lock_guard<std::mutex> lock(watch_mu_);
    stopping_ = true;
  }
  watch_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

std::shared_ptr<const IdentitySet> IdentityStore::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

Status IdentityStore::Reload() {
  std::lock_guard<std::mutex> lock(mu_);
  return LoadLocked();
}

Status IdentityStore::LoadLocked() {
  const std::string& path = options_.path;
  auto fail = [&](const Status& s) {
    if (current_ != nullptr) {
      options_.logger->error(
          "auth file {} not reloaded, the previous identities stay in force: "
          "{}",
          path, s.message());
    }
    return s;
  };
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    stamp_ = {static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                  st.st_mtim.tv_nsec,
              static_cast<int64_t>(st.st_size), st.st_ino};
  }
  if (Status s = CheckPrivateFile(path); !s.ok()) return fail(s);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(
        Status::IOError("cannot read " + path + ": " + strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string contents = text.str();
  Result<std::shared_ptr<const IdentitySet>> set =
      IdentitySet::Parse(contents, options_.account_id,
                         generation_.load(std::memory_order_relaxed) + 1);
  std::fill(contents.begin(), contents.end(), '\0');
  if (!set.ok()) {
    return fail(Status::InvalidArgument(path + ": " + set.status().message()));
  }
  current_ = std::move(*set);
  generation_.store(current_->generation(), std::memory_order_release);
  options_.logger->info("auth: {} identit{} from {}", current_->size(),
                        current_->size() == 1 ? "y" : "ies", path);
  return Status::OK();
}

void IdentityStore::Watch() {
  std::unique_lock<std::mutex> lock(watch_mu_);
  while (!stopping_) {
    watch_cv_.wait_for(lock,
                       std::chrono::milliseconds(options_.poll_interval_ms));
    if (stopping_) break;
    struct stat st;
    if (::stat(options_.path.c_str(), &st) != 0) continue;
    const FileStamp now{
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
            st.st_mtim.tv_nsec,
        static_cast<int64_t>(st.st_size), st.st_ino};
    std::lock_guard<std::mutex> data_lock(mu_);
    if (now == stamp_) continue;
    LoadLocked().IgnoreError();  // Logged by LoadLocked.
  }
}

}  // namespace eddy::runtime::auth
