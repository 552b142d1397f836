#include "cli/auth_cli.h"

#include <fcntl.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "auth/crypto.h"
#include "auth/identity_store.h"
#include "auth/policy.h"

namespace eddy::runtime::cli {
namespace {

constexpr char kAllowAll[] =
    R"({"Version": "2012-10-17", "Statement": [)"
    R"({"Effect": "Allow", "Action": "*", "Resource": "*"}]})";
constexpr char kAllowNothing[] =
    R"({"Version": "2012-10-17", "Statement": []})";

// `n` characters drawn uniformly from `alphabet` (rejection sampling).
bool RandomString(std::string_view alphabet, size_t n, std::string* out) {
  const size_t limit = 256 - 256 % alphabet.size();
  while (out->size() < n) {
    uint8_t buf[64];
    if (!auth::RandomBytes(buf, sizeof(buf))) return false;
    for (uint8_t b : buf) {
      if (b < limit && out->size() < n) {
        out->push_back(alphabet[b % alphabet.size()]);
      }
    }
  }
  return true;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  *out = text.str();
  return true;
}

// Writes `contents` to `path` through a private temporary file and a rename.
bool WriteAtomically(const std::string& path, const std::string& contents,
                     std::string* error) {
  const std::string tmp = path + ".tmp";
  const int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot write " + tmp + ": " + strerror(errno);
    return false;
  }
  bool ok = ::fchmod(fd, 0600) == 0;
  size_t written = 0;
  while (ok && written < contents.size()) {
    const ssize_t n =
        ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot write " + path + ": " + strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

}  // namespace

AuthCommands::AuthCommands(CLI::App* app) {
  auth_ = app->add_subcommand("auth", "Identities of an auth file");
  auth_->require_subcommand(1);
  auth_->add_option("--auth,--file", file_, "The auth file")
      ->capture_default_str();
  add_ = auth_->add_subcommand(
      "add", "Add an identity with new keys (printed once) to the auth file");
  add_->add_option("name", name_, "The identity's (user) name")->required();
  auto* policy = add_->add_option("--policy", policy_file_,
                                  "A JSON file with the identity's IAM policy");
  auto* all = add_->add_flag("--allow-all", allow_all_,
                             "Allow everything (Action \"*\", Resource \"*\")");
  policy->excludes(all);
  add_->fallthrough();
}

int AuthCommands::Run() {
  if (add_->parsed()) return Add();
  return 2;
}

int AuthCommands::Add() {
  // The policy first: a mistake there should not touch the file.
  std::string policy_text = allow_all_ ? kAllowAll : kAllowNothing;
  if (!policy_file_.empty() && !ReadFile(policy_file_, &policy_text)) {
    std::fprintf(stderr, "cannot read %s: %s\n", policy_file_.c_str(),
                 strerror(errno));
    return 1;
  }
  if (Result<auth::Policy> p = auth::Policy::ParseText(policy_text); !p.ok()) {
    std::fprintf(stderr, "%s: %s\n",
                 policy_file_.empty() ? "policy" : policy_file_.c_str(),
                 p.status().message().c_str());
    return 1;
  }
  rapidjson::Document policy;
  policy.Parse(policy_text.c_str());

  rapidjson::Document doc;
  std::string existing;
  if (std::filesystem::exists(file_)) {
    if (Status s = auth::CheckPrivateFile(file_); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.message().c_str());
      return 1;
    }
    if (!ReadFile(file_, &existing)) {
      std::fprintf(stderr, "cannot read %s: %s\n", file_.c_str(),
                   strerror(errno));
      return 1;
    }
    if (Result<std::shared_ptr<const auth::IdentitySet>> set =
            auth::IdentitySet::Parse(existing, "000000000000", 1);
        !set.ok()) {
      std::fprintf(stderr, "%s: %s\n", file_.c_str(),
                   set.status().message().c_str());
      return 1;
    } else if ((*set)->size() > 0) {
      // Names must stay unique.
      doc.Parse(existing.c_str());
      for (const auto& id : doc["identities"].GetArray()) {
        if (name_ == id["name"].GetString()) {
          std::fprintf(stderr, "%s already has an identity named %s\n",
                       file_.c_str(), name_.c_str());
          return 1;
        }
      }
    }
    doc.Parse(existing.c_str());
  } else {
    doc.SetObject();
    doc.AddMember("identities", rapidjson::Value(rapidjson::kArrayType),
                  doc.GetAllocator());
  }

  std::string key_id = "AKIA";
  std::string secret;
  if (!RandomString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, &key_id) ||
      !RandomString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789+/",
                    40, &secret)) {
    std::fprintf(stderr, "the random number generator failed\n");
    return 1;
  }
  auto& alloc = doc.GetAllocator();
  rapidjson::Value identity(rapidjson::kObjectType);
  identity.AddMember("name", rapidjson::Value(name_.c_str(), alloc), alloc);
  identity.AddMember("accessKeyId", rapidjson::Value(key_id.c_str(), alloc),
                     alloc);
  identity.AddMember("secretAccessKey", rapidjson::Value(secret.c_str(), alloc),
                     alloc);
  identity.AddMember("policy", rapidjson::Value(policy, alloc), alloc);
  doc["identities"].PushBack(identity, alloc);

  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  doc.Accept(w);
  std::string contents(buf.GetString(), buf.GetSize());
  contents.push_back('\n');
  if (Result<std::shared_ptr<const auth::IdentitySet>> check =
          auth::IdentitySet::Parse(contents, "000000000000", 1);
      !check.ok()) {
    std::fprintf(stderr, "%s\n", check.status().message().c_str());
    return 1;
  }
  std::string error;
  if (!WriteAtomically(file_, contents, &error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  std::printf(
      "Added identity %s to %s.\n"
      "  aws_access_key_id = %s\n"
      "  aws_secret_access_key = %s\n"
      "The secret is shown only this once. A server using this file picks "
      "the identity up by itself.\n",
      name_.c_str(), file_.c_str(), key_id.c_str(), secret.c_str());
  if (!allow_all_ && policy_file_.empty()) {
    std::printf(
        "It has no permissions yet: give it a policy (--policy FILE or "
        "--allow-all), or edit its \"policy\" in %s.\n",
        file_.c_str());
  }
  return 0;
}

}  // namespace eddy::runtime::cli
