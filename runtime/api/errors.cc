#include "api/errors.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace eddy::runtime::api {
namespace {

constexpr char kDynamoPrefix[] = "com.amazonaws.dynamodb.v20120810#";

ApiError Make(int status, std::string type, std::string message) {
  ApiError e;
  e.http_status = status;
  e.type = std::move(type);
  e.message = std::move(message);
  return e;
}

}  // namespace

ApiError ApiError::Validation(std::string message) {
  return Make(400, "com.amazon.coral.validate#ValidationException",
              std::move(message));
}
ApiError ApiError::Serialization(std::string message) {
  ApiError e = Make(400, "com.amazon.coral.service#SerializationException",
                    std::move(message));
  e.message_key = MessageKey::kUpper;
  return e;
}

ApiError ApiError::Bare(std::string_view coral_name) {
  ApiError e =
      Make(400, "com.amazon.coral.service#" + std::string(coral_name), "");
  e.message_key = MessageKey::kNone;
  return e;
}
ApiError ApiError::UnknownOperation(std::string message) {
  return Make(400, "com.amazon.coral.service#UnknownOperationException",
              std::move(message));
}
ApiError ApiError::ResourceNotFound(std::string message) {
  return Make(400, std::string(kDynamoPrefix) + "ResourceNotFoundException",
              std::move(message));
}
ApiError ApiError::ResourceInUse(std::string message) {
  return Make(400, std::string(kDynamoPrefix) + "ResourceInUseException",
              std::move(message));
}
ApiError ApiError::ConditionalCheckFailed(std::string message) {
  return Make(400,
              std::string(kDynamoPrefix) + "ConditionalCheckFailedException",
              std::move(message));
}
ApiError ApiError::Internal(std::string message) {
  return Make(500, std::string(kDynamoPrefix) + "InternalServerError",
              std::move(message));
}

ApiError ApiError::Coral(std::string_view name, std::string message) {
  return Make(400, "com.amazon.coral.service#" + std::string(name),
              std::move(message));
}

ApiError ApiError::Dynamo(std::string_view name, std::string message) {
  return Make(400, std::string(kDynamoPrefix) + std::string(name),
              std::move(message));
}

ApiError ApiError::FromStatus(const Status& status) {
  switch (status.code()) {
    case Status::Code::kInvalidArgument:
      return Validation(status.message());
    case Status::Code::kNotFound:
      return ResourceNotFound(status.message());
    case Status::Code::kAlreadyExists:
      return ResourceInUse(status.message());
    case Status::Code::kConditionFailed:
      return ConditionalCheckFailed(status.message());
    default:
      return Internal("Internal server error");
  }
}

std::string ApiError::Body() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("__type");
  w.String(type.data(), static_cast<rapidjson::SizeType>(type.size()));
  if (message_key != MessageKey::kNone) {
    w.Key(message_key == MessageKey::kUpper ? "Message" : "message");
    w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  }
  w.EndObject();
  std::string body(buf.GetString(), buf.GetSize());
  if (!extra_json.empty()) {
    body.pop_back();  // '}'
    body += ',';
    body += extra_json;
    body += '}';
  }
  return body;
}

}  // namespace eddy::runtime::api
