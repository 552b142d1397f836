#include "cli/ttl_cli.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <utility>

#include "cli/client_flags.h"
#include "http_client.h"

namespace eddy::runtime::cli {
namespace {

constexpr char kSweepTarget[] = "EddyAdmin_20261126.SweepExpiredItems";

// "ErrorType: message" from an error body, or the body itself.
std::string ErrorText(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  if (doc.HasParseError() || !doc.IsObject()) return body;
  // DynamoDB's errors say "message"; the deserializer's, "Message".
  const char* key = doc.HasMember("message") ? "message" : "Message";
  if (!doc.HasMember(key) || !doc[key].IsString()) return body;
  std::string type = doc.HasMember("__type") && doc["__type"].IsString()
                         ? doc["__type"].GetString()
                         : "";
  type = type.substr(type.find('#') + 1);
  return type + ": " + doc[key].GetString();
}

}  // namespace

TtlCommands::TtlCommands(CLI::App* app) {
  ttl_ = app->add_subcommand("ttl", "Time to Live: expired-item deletion");
  ttl_->require_subcommand(1);
  ttl_->add_option("--endpoint-url,--endpoint", endpoint_, "Eddy's endpoint")
      ->capture_default_str();
  ttl_->add_option("--ca-bundle", ca_bundle_, kCaBundleHelp);
  sweep_ = ttl_->add_subcommand(
      "sweep",
      "Delete expired items now (of every table with TTL enabled, or of "
      "--table)");
  sweep_->add_option("--table", table_, "Only this table");
  sweep_->add_flag("--json", json_, "Print the admin API's JSON answer");
  // `--endpoint-url` and `--ca-bundle` may follow the subcommand's own
  // options.
  sweep_->fallthrough();
}

int TtlCommands::Run() {
  if (sweep_->parsed()) return Sweep();
  return 2;
}

int TtlCommands::Sweep() {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  if (!table_.empty()) {
    w.Key("TableName");
    w.String(table_.c_str(), static_cast<rapidjson::SizeType>(table_.size()));
  }
  w.EndObject();

  HttpClientOptions options;
  options.endpoint = endpoint_;
  options.ca_bundle = ca_bundle_;
  Result<HttpClient> client = HttpClient::Create(std::move(options));
  if (!client.ok()) {
    std::fprintf(stderr, "eddy: %s\n", client.status().message().c_str());
    return 1;
  }
  Result<HttpClientResponse> response = client->PostJson(
      kSweepTarget, std::string_view(buf.GetString(), buf.GetSize()));
  if (!response.ok()) {
    std::fprintf(stderr, "eddy: cannot reach %s: %s\n", endpoint_.c_str(),
                 response.status().ToString().c_str());
    return 1;
  }
  rapidjson::Document doc;
  doc.Parse(response->body.c_str());
  if (response->status != 200 || doc.HasParseError() || !doc.IsObject() ||
      !doc.HasMember("DeletedItemCount") ||
      !doc["DeletedItemCount"].IsInt64()) {
    std::fprintf(stderr, "eddy: SweepExpiredItems failed: %s\n",
                 ErrorText(response->body).c_str());
    return 1;
  }
  if (json_) {
    std::printf("%s\n", response->body.c_str());
    return 0;
  }
  const int64_t deleted = doc["DeletedItemCount"].GetInt64();
  std::string tables;
  if (doc.HasMember("TableNames") && doc["TableNames"].IsArray()) {
    for (const auto& name : doc["TableNames"].GetArray()) {
      if (!name.IsString()) continue;
      tables += (tables.empty() ? "" : ", ") + std::string(name.GetString());
    }
  }
  if (tables.empty()) {
    std::fprintf(stderr, "eddy: %s\n",
                 table_.empty() ? "no table has TTL enabled; nothing to sweep"
                                : ("TTL is not enabled on table " + table_ +
                                   "; nothing to sweep")
                                      .c_str());
  }
  std::printf("deleted %lld expired item%s%s%s\n",
              static_cast<long long>(deleted), deleted == 1 ? "" : "s",
              tables.empty() ? "" : " from ", tables.c_str());
  return 0;
}

}  // namespace eddy::runtime::cli
