// eddy_dynamodb_call: drives the SDK's DynamoDB client (dynamodb.h) for the
// integration tests, one client for the whole run (so keep-alive shows).
//
//   eddy_dynamodb_call --endpoint URL [--max-attempts N]
//                      [--key ID --secret SECRET]   (else the standard chain)
//
// Reads one call per line on standard input, {"op": "PutItem", "body":
// {...}}, and prints one line per call: {"ok": true, "answer": {...}} or
// {"ok": false, "kind": "...", "type": "...", "message": "...",
// "http_status": N, "attempts": N}. Exit status 2 if the client cannot be
// made (its error printed the same way).
#include <cstdio>
#include <iostream>
#include <string>

#include "eddy/functions/dynamodb.h"
#include "eddy/functions/json.h"

namespace {

using eddy::json::quote;

std::string ErrorLine(const eddy::dynamodb::call_error& e) {
  return "{\"ok\":false,\"kind\":" + quote(eddy::dynamodb::kind_name(e.kind)) +
         ",\"type\":" + quote(e.type) + ",\"message\":" + quote(e.message) +
         ",\"http_status\":" + std::to_string(e.http_status) +
         ",\"attempts\":" + std::to_string(e.attempts) + "}";
}

}  // namespace

int main(int argc, char** argv) {
  eddy::dynamodb::client_options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--endpoint") {
      options.endpoint = value;
    } else if (flag == "--max-attempts") {
      options.max_attempts = std::stoi(value);
    } else if (flag == "--key") {
      options.access_key_id = value;
    } else if (flag == "--secret") {
      options.secret_access_key = value;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  auto made = eddy::dynamodb::client::create(options);
  if (!made.ok()) {
    std::printf("%s\n", ErrorLine(made.error()).c_str());
    return 2;
  }
  eddy::dynamodb::client& db = made.value();
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    const eddy::json::value request = eddy::json::parse(line);
    const std::string op = request.string_or("op");
    const eddy::json::value* body = request.find("body");
    auto answer = db.call(op, body == nullptr ? "{}" : body->dump());
    if (answer.ok()) {
      std::printf("{\"ok\":true,\"answer\":%s}\n", answer.value().c_str());
    } else {
      std::printf("%s\n", ErrorLine(answer.error()).c_str());
    }
    std::fflush(stdout);
  }
  return 0;
}
