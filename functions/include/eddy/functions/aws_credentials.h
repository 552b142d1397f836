// aws_credentials.h: the standard AWS credentials chain and region lookup,
// as the AWS CLI and SDKs do them, for code that signs requests to DynamoDB
// (or to Eddy) with Signature Version 4: the eddy command line, and handlers
// that call back (samples/replicate, samples/analytics). Header-only, C++17,
// the C++ standard library only.
//
//   eddy::aws::credentials_lookup found = eddy::aws::resolve_credentials();
//   if (!found.credentials) throw std::runtime_error(found.error);
//   std::string region = eddy::aws::resolve_region();  // "us-east-1" if none
//
// Credentials, first found wins:
//   1. The environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, with
//      AWS_SESSION_TOKEN for temporary credentials.
//   2. The shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default
//      ~/.aws/credentials), section [NAME] of the profile.
//   3. The config file (AWS_CONFIG_FILE, default ~/.aws/config), section
//      [profile NAME] ([default] or [profile default] for the default).
// The profile is AWS_PROFILE, else "default". Keys: aws_access_key_id,
// aws_secret_access_key, aws_session_token.
//
// Region: AWS_REGION, then AWS_DEFAULT_REGION, then `region` in the
// profile's section of the config file (the credentials file's is ignored,
// as the AWS CLI ignores it).
//
// Files: INI as the AWS CLI reads them. `[section]` headers; `key = value`
// (or `key: value`) with the key case-insensitive and blanks around both
// trimmed; whole-line comments starting with # or ;; indented lines continue
// the previous key (nested settings such as `s3 =` sub-keys) and are not
// keys of their own. Missing files are skipped; "~/" means $HOME.
//
// Thread-safety: the functions read files and the environment and keep no
// state; they may be called from any thread (std::getenv is not safe
// against concurrent setenv).
//
// Names are snake_case like the rest of the handler SDK (handler.h).
#ifndef EDDY_FUNCTIONS_AWS_CREDENTIALS_H_
#define EDDY_FUNCTIONS_AWS_CREDENTIALS_H_

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

namespace eddy::aws {

inline constexpr char default_region[] = "us-east-1";

struct credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // Empty for long-term credentials.
  // Where they came from, for messages: "environment",
  // "/home/me/.aws/credentials [default]", ...
  std::string source;
};

// The outcome of resolve_credentials(): credentials, or why there are none.
struct credentials_lookup {
  std::optional<eddy::aws::credentials> credentials;
  // Set when `credentials` is empty: "Unable to locate credentials. ..."
  // when no source has any, or what is wrong with the first source that has
  // only part of them (or with the profile).
  std::string error;
};

// Reads an environment variable; nullopt when unset. The default reads the
// process environment; tests pass a map.
using environment = std::function<std::optional<std::string>(const char*)>;

inline std::optional<std::string> process_environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// Sections of an INI file: section name -> (lower-cased key -> value).
// Repeated sections merge; a repeated key keeps its last value.
using ini_sections = std::map<std::string, std::map<std::string, std::string>>;

namespace internal {

inline std::string_view trim(std::string_view s) {
  const char* blanks = " \t\r\n\f\v";
  const size_t first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  const size_t last = s.find_last_not_of(blanks);
  return s.substr(first, last - first + 1);
}

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A non-empty variable, else nullopt (AWS tools treat "" as unset).
inline std::optional<std::string> get(const environment& env,
                                      const char* name) {
  std::optional<std::string> value = env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

// `path` with a leading "~/" replaced by $HOME.
inline std::string expand_home(const environment& env, std::string path) {
  if (path.size() >= 2 && path[0] == '~' && path[1] == '/') {
    if (std::optional<std::string> home = get(env, "HOME")) {
      path = *home + path.substr(1);
    }
  }
  return path;
}

// The file named by `variable`, else ~/.aws/<name>; "" when neither can be
// formed (no HOME).
inline std::string file_path(const environment& env, const char* variable,
                             const char* name) {
  if (std::optional<std::string> path = get(env, variable)) {
    return expand_home(env, *path);
  }
  std::optional<std::string> home = get(env, "HOME");
  if (!home) return "";
  return *home + "/.aws/" + name;
}

}  // namespace internal

// Parses INI text (format above). Lines that are neither a section, a key
// nor a comment are ignored, as are keys before the first section.
inline ini_sections parse_ini(std::string_view text) {
  ini_sections sections;
  std::map<std::string, std::string>* section = nullptr;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // BOM
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    const std::string_view content = internal::trim(line);
    if (content.empty() || content[0] == '#' || content[0] == ';') continue;
    if (line[0] == ' ' || line[0] == '\t') continue;  // A continuation.
    if (content[0] == '[') {
      const size_t close = content.rfind(']');
      if (close == std::string_view::npos) {
        section = nullptr;  // Malformed: its keys belong to no section.
        continue;
      }
      section =
          &sections[std::string(internal::trim(content.substr(1, close - 1)))];
      continue;
    }
    const size_t delimiter = content.find_first_of("=:");
    if (section == nullptr || delimiter == std::string_view::npos) continue;
    const std::string key =
        internal::lower(internal::trim(content.substr(0, delimiter)));
    if (key.empty()) continue;
    (*section)[key] =
        std::string(internal::trim(content.substr(delimiter + 1)));
  }
  return sections;
}

// Reads and parses `path`; nullopt when the file cannot be opened.
inline std::optional<ini_sections> read_ini_file(const std::string& path) {
  if (path.empty()) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return parse_ini(text.str());
}

// The profile in use: AWS_PROFILE, else "default".
inline std::string resolve_profile(
    const environment& env = process_environment) {
  return internal::get(env, "AWS_PROFILE").value_or("default");
}

namespace internal {

// The profile's section of a config file: [profile NAME], or for the
// default profile [default] (or [profile default]).
inline const std::map<std::string, std::string>* config_section(
    const ini_sections& config, const std::string& profile) {
  auto it = config.find("profile " + profile);
  if (it == config.end() && profile == "default") it = config.find("default");
  return it == config.end() ? nullptr : &it->second;
}

// Credentials from one section; sets *error for a partial set.
inline std::optional<credentials> from_section(
    const std::map<std::string, std::string>& section, std::string source,
    std::string* error) {
  auto value = [&](const char* key) -> std::string {
    auto it = section.find(key);
    return it == section.end() ? "" : it->second;
  };
  credentials found{value("aws_access_key_id"), value("aws_secret_access_key"),
                    value("aws_session_token"), std::move(source)};
  if (found.access_key_id.empty() && found.secret_access_key.empty()) {
    return std::nullopt;
  }
  if (found.access_key_id.empty() || found.secret_access_key.empty()) {
    *error = "Partial credentials found in " + found.source + ", missing: " +
             (found.access_key_id.empty() ? "aws_access_key_id"
                                          : "aws_secret_access_key");
    return std::nullopt;
  }
  return found;
}

}  // namespace internal

// Walks the chain (see the top of this file).
inline credentials_lookup resolve_credentials(
    const environment& env = process_environment) {
  credentials_lookup result;
  const std::optional<std::string> key_id =
      internal::get(env, "AWS_ACCESS_KEY_ID");
  const std::optional<std::string> secret =
      internal::get(env, "AWS_SECRET_ACCESS_KEY");
  if (key_id && secret) {
    result.credentials = credentials{
        *key_id, *secret, internal::get(env, "AWS_SESSION_TOKEN").value_or(""),
        "environment"};
    return result;
  }
  if (key_id || secret) {
    result.error = std::string(
                       "Partial credentials found in the environment, "
                       "missing: ") +
                   (key_id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    return result;
  }

  const std::string profile = resolve_profile(env);
  bool profile_seen = false;
  const std::string credentials_path =
      internal::file_path(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  if (std::optional<ini_sections> file = read_ini_file(credentials_path)) {
    if (auto it = file->find(profile); it != file->end()) {
      profile_seen = true;
      result.credentials = internal::from_section(
          it->second, credentials_path + " [" + profile + "]", &result.error);
      if (result.credentials || !result.error.empty()) return result;
    }
  }
  const std::string config_path =
      internal::file_path(env, "AWS_CONFIG_FILE", "config");
  if (std::optional<ini_sections> file = read_ini_file(config_path)) {
    if (const auto* section = internal::config_section(*file, profile)) {
      profile_seen = true;
      result.credentials = internal::from_section(
          *section, config_path + " [profile " + profile + "]", &result.error);
      if (result.credentials || !result.error.empty()) return result;
    }
  }
  if (!profile_seen && profile != "default") {
    result.error = "The config profile (" + profile + ") could not be found";
    return result;
  }
  result.error =
      "Unable to locate credentials. Set AWS_ACCESS_KEY_ID and "
      "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary "
      "credentials), or put aws_access_key_id and aws_secret_access_key in "
      "the [" +
      profile + "] section of " +
      (credentials_path.empty() ? std::string("~/.aws/credentials")
                                : credentials_path) +
      " (AWS_PROFILE selects another profile).";
  return result;
}

// The signing region (see the top of this file), else `fallback`.
inline std::string resolve_region(
    const environment& env = process_environment,
    const std::string& fallback = default_region) {
  if (std::optional<std::string> region = internal::get(env, "AWS_REGION")) {
    return *region;
  }
  if (std::optional<std::string> region =
          internal::get(env, "AWS_DEFAULT_REGION")) {
    return *region;
  }
  const std::string config_path =
      internal::file_path(env, "AWS_CONFIG_FILE", "config");
  if (std::optional<ini_sections> file = read_ini_file(config_path)) {
    if (const auto* section =
            internal::config_section(*file, resolve_profile(env))) {
      if (auto it = section->find("region");
          it != section->end() && !it->second.empty()) {
        return it->second;
      }
    }
  }
  return fallback;
}

}  // namespace eddy::aws

#endif  // EDDY_FUNCTIONS_AWS_CREDENTIALS_H_
