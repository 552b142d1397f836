#include "cli/stream_tail.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <thread>
#include <utility>
#include <vector>

#include "http_client.h"

namespace eddy::runtime::cli {
namespace {

constexpr char kDynamo[] = "DynamoDB_20120810.";
constexpr char kStreams[] = "DynamoDBStreams_20120810.";

std::string Quote(const std::string& s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string(buf.GetString(), buf.GetSize());
}

// Calls an operation; on failure prints the error and returns false.
bool Call(HttpClient* client, const std::string& target,
          const std::string& body, rapidjson::Document* out) {
  Result<HttpClientResponse> response = client->PostJson(target, body);
  if (!response.ok()) {
    std::fprintf(stderr, "eddy: cannot reach %s: %s\n",
                 client->endpoint().c_str(),
                 response.status().ToString().c_str());
    return false;
  }
  out->Parse(response->body.c_str());
  if (response->status != 200 || out->HasParseError() || !out->IsObject()) {
    std::fprintf(stderr, "eddy: %s failed (HTTP %d): %s\n", target.c_str(),
                 response->status, response->body.c_str());
    return false;
  }
  return true;
}

}  // namespace

int StreamTail(const StreamTailOptions& options, std::FILE* out,
               const std::atomic<bool>& stop) {
  HttpClientOptions client_options;
  client_options.endpoint = options.endpoint;
  client_options.ca_bundle = options.ca_bundle;
  Result<HttpClient> client = HttpClient::Create(std::move(client_options));
  if (!client.ok()) {
    std::fprintf(stderr, "eddy: %s\n", client.status().message().c_str());
    return 2;
  }
  rapidjson::Document doc;
  if (!Call(&*client, std::string(kDynamo) + "DescribeTable",
            "{\"TableName\":" + Quote(options.table) + "}", &doc)) {
    return 1;
  }
  const auto& table = doc["Table"];
  if (!table.HasMember("LatestStreamArn") ||
      !table.HasMember("StreamSpecification")) {
    std::fprintf(stderr, "eddy: table %s has no enabled stream\n",
                 options.table.c_str());
    return 1;
  }
  const std::string arn = table["LatestStreamArn"].GetString();
  // Every shard: DescribeStream answers at most 100 a page.
  std::vector<std::string> iterators;
  std::string start;
  do {
    std::string request = "{\"StreamArn\":" + Quote(arn);
    if (!start.empty()) {
      request += ",\"ExclusiveStartShardId\":" + Quote(start);
    }
    if (!Call(&*client, std::string(kStreams) + "DescribeStream", request + "}",
              &doc)) {
      return 1;
    }
    const auto& description = doc["StreamDescription"];
    for (const auto& shard : description["Shards"].GetArray()) {
      rapidjson::Document it;
      const std::string type =
          options.from_trim_horizon ? "TRIM_HORIZON" : "LATEST";
      if (!Call(&*client, std::string(kStreams) + "GetShardIterator",
                "{\"StreamArn\":" + Quote(arn) +
                    ",\"ShardId\":" + Quote(shard["ShardId"].GetString()) +
                    ",\"ShardIteratorType\":\"" + type + "\"}",
                &it)) {
        return 1;
      }
      iterators.push_back(it["ShardIterator"].GetString());
    }
    start = description.HasMember("LastEvaluatedShardId")
                ? description["LastEvaluatedShardId"].GetString()
                : "";
  } while (!start.empty());

  long printed = 0;
  while (!stop.load() && !iterators.empty()) {
    bool any = false;
    for (size_t i = 0; i < iterators.size();) {
      rapidjson::Document page;
      if (!Call(&*client, std::string(kStreams) + "GetRecords",
                "{\"ShardIterator\":" + Quote(iterators[i]) + "}", &page)) {
        return 1;
      }
      for (const auto& record : page["Records"].GetArray()) {
        rapidjson::StringBuffer buf;
        rapidjson::Writer<rapidjson::StringBuffer> w(buf);
        record.Accept(w);
        std::fprintf(out, "%s\n", buf.GetString());
        any = true;
        if (options.max_records > 0 && ++printed >= options.max_records) {
          std::fflush(out);
          return 0;
        }
      }
      if (page.HasMember("NextShardIterator")) {
        iterators[i++] = page["NextShardIterator"].GetString();
      } else {
        iterators.erase(iterators.begin() + static_cast<long>(i));
      }
    }
    std::fflush(out);
    if (!any) {
      if (options.no_follow) break;
      // The Streams API is pull-only; a short pause keeps an idle tail cheap
      // while still showing records within a tenth of a second.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return 0;
}

}  // namespace eddy::runtime::cli
