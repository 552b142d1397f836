#include "cli/snapshot_cli.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>
#include <utility>

#include "cli/client_flags.h"
#include "http_client.h"

namespace eddy::runtime::cli {
namespace {

constexpr char kCreate[] = "EddyAdmin_20261126.CreateSnapshot";
constexpr char kDescribe[] = "EddyAdmin_20261126.DescribeSnapshot";

std::string ErrorText(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  if (doc.HasParseError() || !doc.IsObject()) return body;
  const char* key = doc.HasMember("message") ? "message" : "Message";
  if (!doc.HasMember(key) || !doc[key].IsString()) return body;
  std::string type = doc.HasMember("__type") && doc["__type"].IsString()
                         ? doc["__type"].GetString()
                         : "";
  type = type.substr(type.find('#') + 1);
  return type + ": " + doc[key].GetString();
}

std::string Body(const char* key, const std::string& value) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  w.EndObject();
  return buf.GetString();
}

int64_t Member(const rapidjson::Value& s, const char* key) {
  auto it = s.FindMember(key);
  return it != s.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
}

}  // namespace

SnapshotCommand::SnapshotCommand(CLI::App* app) {
  command_ = app->add_subcommand(
      "snapshot",
      "Copy the server's whole data directory, consistently and while it "
      "serves, into a new directory that `eddy serve --data` opens as it is");
  command_
      ->add_option("--to", to_,
                   "The new directory (on the server's machine; must not "
                   "exist, or be empty)")
      ->required();
  command_
      ->add_option("--endpoint-url,--endpoint", endpoint_, "Eddy's endpoint")
      ->capture_default_str();
  command_->add_option("--ca-bundle", ca_bundle_, kCaBundleHelp);
  command_->add_option("--poll-ms", poll_ms_, "How often progress is asked")
      ->capture_default_str();
}

int SnapshotCommand::Run() {
  std::error_code ec;
  const std::string dir = std::filesystem::absolute(to_, ec).string();
  HttpClientOptions options;
  options.endpoint = endpoint_;
  options.ca_bundle = ca_bundle_;
  Result<HttpClient> client = HttpClient::Create(std::move(options));
  if (!client.ok()) {
    std::fprintf(stderr, "eddy: %s\n", client.status().message().c_str());
    return 1;
  }
  auto call = [&](const char* target, const std::string& body,
                  rapidjson::Document* doc) -> bool {
    Result<HttpClientResponse> response = client->PostJson(target, body);
    if (!response.ok()) {
      std::fprintf(stderr, "eddy: cannot reach %s: %s\n", endpoint_.c_str(),
                   response.status().ToString().c_str());
      return false;
    }
    doc->Parse(response->body.c_str());
    if (response->status != 200 || doc->HasParseError() || !doc->IsObject() ||
        !doc->HasMember("Snapshot") || !(*doc)["Snapshot"].IsObject()) {
      std::fprintf(stderr, "eddy: %s failed: %s\n",
                   std::strchr(target, '.') + 1,
                   ErrorText(response->body).c_str());
      return false;
    }
    return true;
  };
  rapidjson::Document doc;
  if (!call(kCreate, Body("Directory", dir), &doc)) return 1;
  const std::string id = doc["Snapshot"]["SnapshotId"].GetString();
  std::fprintf(stderr, "eddy: snapshot %s into %s\n", id.c_str(), dir.c_str());
  int64_t shown = -1;
  for (;;) {
    if (!call(kDescribe, Body("SnapshotId", id), &doc)) return 1;
    const rapidjson::Value& s = doc["Snapshot"];
    const std::string status = s["Status"].GetString();
    const int64_t copied = Member(s, "BytesCopied");
    const int64_t total = Member(s, "BytesTotal");
    if (copied != shown && total > 0) {
      std::fprintf(stderr,
                   "eddy: copied %lld of %lld files, %.1f of %.1f MB "
                   "(%d%%)\n",
                   static_cast<long long>(Member(s, "FilesCopied")),
                   static_cast<long long>(Member(s, "FilesTotal")),
                   static_cast<double>(copied) / 1e6,
                   static_cast<double>(total) / 1e6,
                   static_cast<int>(copied * 100 / total));
      shown = copied;
    }
    if (status == "COMPLETED") {
      std::printf("snapshot %s: %lld files, %lld bytes in %s\n", id.c_str(),
                  static_cast<long long>(Member(s, "FilesTotal")),
                  static_cast<long long>(total), dir.c_str());
      return 0;
    }
    if (status == "FAILED") {
      const auto it = s.FindMember("FailureMessage");
      std::fprintf(stderr, "eddy: snapshot %s failed: %s\n", id.c_str(),
                   it != s.MemberEnd() && it->value.IsString()
                       ? it->value.GetString()
                       : "unknown");
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms_));
  }
}

}  // namespace eddy::runtime::cli
