// The standard AWS credentials chain and region lookup (aws_credentials.h):
// INI parsing and the precedence of environment, credentials file and config
// file. In process: the environment is a map and the files live in a
// temporary directory.
#include "eddy/functions/aws_credentials.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

namespace eddy::aws {
namespace {

using ::testing::HasSubstr;

class AwsCredentialsTest : public ::testing::Test {
 protected:
  AwsCredentialsTest() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "eddy-aws-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    // A HOME without .aws/ unless a test writes one: nothing of the real
    // user's configuration leaks in.
    env_["HOME"] = dir_.string();
  }
  ~AwsCredentialsTest() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Writes `text` to `name` under the temporary directory; returns its path.
  std::string Write(const std::string& name, const std::string& text) {
    const std::filesystem::path path = dir_ / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  void Set(const std::string& name, const std::string& value) {
    env_[name] = value;
  }

  environment Env() const {
    return [env = env_](const char* name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
  }

  credentials_lookup Resolve() const { return resolve_credentials(Env()); }
  std::string Region() const { return resolve_region(Env()); }

  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
};

// The INI dialect of the AWS CLI: comments, blanks, CRLF, `:` as well as
// `=`, case-insensitive keys, and values that keep their inner `=`.
TEST_F(AwsCredentialsTest, ParseIniReadsSectionsAndKeys) {
  const ini_sections sections = parse_ini(
      "\xEF\xBB\xBF# a comment\r\n"
      "orphan = before any section\r\n"
      "[default]\r\n"
      "; another comment\r\n"
      "  \r\n"
      "AWS_Access_Key_ID = AKIDONE  \r\n"
      "aws_secret_access_key=abc/def+ghi==\r\n"
      "[profile dev]\n"
      "region: eu-west-1\n"
      "[ spaced ]  # trailing text after the header\n"
      "key = value\n");
  ASSERT_EQ(sections.size(), 3u);
  const auto& def = sections.at("default");
  EXPECT_EQ(def.at("aws_access_key_id"), "AKIDONE");
  EXPECT_EQ(def.at("aws_secret_access_key"), "abc/def+ghi==");
  EXPECT_EQ(def.size(), 2u);
  EXPECT_EQ(sections.at("profile dev").at("region"), "eu-west-1");
  EXPECT_EQ(sections.at("spaced").at("key"), "value");
}

// Indented lines belong to the key above them (nested settings such as the
// s3 sub-keys); they must not set keys of the section.
TEST_F(AwsCredentialsTest, ParseIniIgnoresNestedSubKeys) {
  const ini_sections sections = parse_ini(
      "[profile dev]\n"
      "s3 =\n"
      "  region = us-west-2\n"
      "\tmax_concurrent_requests = 20\n"
      "output = json\n");
  const auto& dev = sections.at("profile dev");
  EXPECT_EQ(dev.count("region"), 0u);
  EXPECT_EQ(dev.at("s3"), "");
  EXPECT_EQ(dev.at("output"), "json");
}

// A repeated section merges into the first; a repeated key keeps the last
// value.
TEST_F(AwsCredentialsTest, ParseIniMergesRepeatedSections) {
  const ini_sections sections =
      parse_ini("[a]\nx = 1\ny = 1\n[b]\nz = 1\n[a]\nx = 2\n");
  EXPECT_EQ(sections.at("a").at("x"), "2");
  EXPECT_EQ(sections.at("a").at("y"), "1");
}

// The environment comes first, even when the files have other keys.
TEST_F(AwsCredentialsTest, EnvironmentWinsOverFiles) {
  Write(".aws/credentials",
        "[default]\naws_access_key_id = FILE\naws_secret_access_key = f\n");
  Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  Set("AWS_SECRET_ACCESS_KEY", "env-secret");
  Set("AWS_SESSION_TOKEN", "env-token");
  const credentials_lookup found = Resolve();
  ASSERT_TRUE(found.credentials.has_value()) << found.error;
  EXPECT_EQ(found.credentials->access_key_id, "AKIDENV");
  EXPECT_EQ(found.credentials->secret_access_key, "env-secret");
  EXPECT_EQ(found.credentials->session_token, "env-token");
  EXPECT_EQ(found.credentials->source, "environment");
}

// Half a key pair in the environment is a mistake to report, not a reason
// to fall through to a file with someone else's keys.
TEST_F(AwsCredentialsTest, PartialEnvironmentIsAnError) {
  Write(".aws/credentials",
        "[default]\naws_access_key_id = FILE\naws_secret_access_key = f\n");
  Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  const credentials_lookup found = Resolve();
  EXPECT_FALSE(found.credentials.has_value());
  EXPECT_THAT(found.error, HasSubstr("AWS_SECRET_ACCESS_KEY"));
}

// Empty variables count as unset, as in the AWS CLI.
TEST_F(AwsCredentialsTest, EmptyEnvironmentVariablesAreUnset) {
  Write(".aws/credentials",
        "[default]\naws_access_key_id = FILE\naws_secret_access_key = f\n");
  Set("AWS_ACCESS_KEY_ID", "");
  Set("AWS_SECRET_ACCESS_KEY", "");
  const credentials_lookup found = Resolve();
  ASSERT_TRUE(found.credentials.has_value()) << found.error;
  EXPECT_EQ(found.credentials->access_key_id, "FILE");
}

// ~/.aws/credentials, profile [default], is the usual place.
TEST_F(AwsCredentialsTest, CredentialsFileDefaultProfile) {
  const std::string path =
      Write(".aws/credentials",
            "[other]\naws_access_key_id = OTHER\naws_secret_access_key = o\n"
            "[default]\naws_access_key_id = AKIDDEF\n"
            "aws_secret_access_key = def-secret\naws_session_token = tok\n");
  const credentials_lookup found = Resolve();
  ASSERT_TRUE(found.credentials.has_value()) << found.error;
  EXPECT_EQ(found.credentials->access_key_id, "AKIDDEF");
  EXPECT_EQ(found.credentials->secret_access_key, "def-secret");
  EXPECT_EQ(found.credentials->session_token, "tok");
  EXPECT_EQ(found.credentials->source, path + " [default]");
}

// AWS_PROFILE picks the section; AWS_SHARED_CREDENTIALS_FILE the file
// (with ~ expanded).
TEST_F(AwsCredentialsTest, ProfileAndFileFromEnvironment) {
  Write("elsewhere/creds",
        "[default]\naws_access_key_id = DEF\naws_secret_access_key = d\n"
        "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = dev\n");
  Set("AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere/creds");
  Set("AWS_PROFILE", "dev");
  const credentials_lookup found = Resolve();
  ASSERT_TRUE(found.credentials.has_value()) << found.error;
  EXPECT_EQ(found.credentials->access_key_id, "AKIDDEV");
}

// The credentials file comes before the config file.
TEST_F(AwsCredentialsTest, CredentialsFileWinsOverConfigFile) {
  Write(".aws/credentials",
        "[default]\naws_access_key_id = CREDS\naws_secret_access_key = c\n");
  Write(".aws/config",
        "[default]\naws_access_key_id = CONFIG\naws_secret_access_key = c\n");
  const credentials_lookup found = Resolve();
  ASSERT_TRUE(found.credentials.has_value()) << found.error;
  EXPECT_EQ(found.credentials->access_key_id, "CREDS");
}

// Without the profile in the credentials file, the config file's
// [profile NAME] section is used; its plain [NAME] sections are not
// profiles.
TEST_F(AwsCredentialsTest, ConfigFileProfileSection) {
  Write(".aws/credentials",
        "[default]\naws_access_key_id = DEF\naws_secret_access_key = d\n");
  const std::string path = Write(
      "conf",
      "[dev]\naws_access_key_id = NOTAPROFILE\naws_secret_access_key = x\n"
      "[profile dev]\naws_access_key_id = AKIDCONF\n"
      "aws_secret_access_key = conf\n");
  Set("AWS_CONFIG_FILE", path);
  Set("AWS_PROFILE", "dev");
  const credentials_lookup found = Resolve();
  ASSERT_TRUE(found.credentials.has_value()) << found.error;
  EXPECT_EQ(found.credentials->access_key_id, "AKIDCONF");
  EXPECT_EQ(found.credentials->source, path + " [profile dev]");
}

// The default profile of the config file is [default] (or
// [profile default]).
TEST_F(AwsCredentialsTest, ConfigFileDefaultSection) {
  Write(".aws/config",
        "[default]\nregion = eu-central-1\naws_access_key_id = AKIDCFG\n"
        "aws_secret_access_key = cfg\n");
  const credentials_lookup found = Resolve();
  ASSERT_TRUE(found.credentials.has_value()) << found.error;
  EXPECT_EQ(found.credentials->access_key_id, "AKIDCFG");

  Write(".aws/config",
        "[profile default]\naws_access_key_id = AKIDPD\n"
        "aws_secret_access_key = pd\n");
  const credentials_lookup again = Resolve();
  ASSERT_TRUE(again.credentials.has_value()) << again.error;
  EXPECT_EQ(again.credentials->access_key_id, "AKIDPD");
}

// A profile section with a key id but no secret is reported, naming the
// file.
TEST_F(AwsCredentialsTest, PartialProfileIsAnError) {
  const std::string path =
      Write(".aws/credentials", "[default]\naws_access_key_id = AKIDHALF\n");
  const credentials_lookup found = Resolve();
  EXPECT_FALSE(found.credentials.has_value());
  EXPECT_THAT(found.error, HasSubstr(path));
  EXPECT_THAT(found.error, HasSubstr("aws_secret_access_key"));
}

// Nothing anywhere: the message names the variables and the file to fix it
// with, as the AWS CLI's "Unable to locate credentials" does.
TEST_F(AwsCredentialsTest, NothingFoundSaysWhereToPutThem) {
  Write(".aws/config", "[default]\nregion = us-west-2\n");
  const credentials_lookup found = Resolve();
  EXPECT_FALSE(found.credentials.has_value());
  EXPECT_THAT(found.error, HasSubstr("Unable to locate credentials"));
  EXPECT_THAT(found.error, HasSubstr("AWS_ACCESS_KEY_ID"));
  EXPECT_THAT(found.error, HasSubstr("AWS_SECRET_ACCESS_KEY"));
  EXPECT_THAT(found.error, HasSubstr((dir_ / ".aws/credentials").string()));
}

// A named profile that exists nowhere is named in the error.
TEST_F(AwsCredentialsTest, UnknownProfileIsNamed) {
  Write(".aws/credentials",
        "[default]\naws_access_key_id = DEF\naws_secret_access_key = d\n");
  Set("AWS_PROFILE", "nosuch");
  const credentials_lookup found = Resolve();
  EXPECT_FALSE(found.credentials.has_value());
  EXPECT_THAT(found.error, HasSubstr("(nosuch) could not be found"));
}

// Region: AWS_REGION, then AWS_DEFAULT_REGION, then the config file's
// profile, then us-east-1. The credentials file's region does not count.
TEST_F(AwsCredentialsTest, RegionPrecedence) {
  EXPECT_EQ(Region(), "us-east-1");
  Write(".aws/credentials", "[default]\nregion = ap-south-1\n");
  EXPECT_EQ(Region(), "us-east-1");
  Write(".aws/config",
        "[default]\nregion = eu-west-1\n[profile dev]\nregion = eu-west-2\n");
  EXPECT_EQ(Region(), "eu-west-1");
  Set("AWS_PROFILE", "dev");
  EXPECT_EQ(Region(), "eu-west-2");
  Set("AWS_DEFAULT_REGION", "us-west-1");
  EXPECT_EQ(Region(), "us-west-1");
  Set("AWS_REGION", "us-west-2");
  EXPECT_EQ(Region(), "us-west-2");
}

// Without HOME and without the variables naming the files there is nothing
// to read, and no crash.
TEST_F(AwsCredentialsTest, NoHomeMeansNoFiles) {
  env_.erase("HOME");
  const credentials_lookup found = Resolve();
  EXPECT_FALSE(found.credentials.has_value());
  EXPECT_THAT(found.error, HasSubstr("~/.aws/credentials"));
  EXPECT_EQ(Region(), "us-east-1");
}

}  // namespace
}  // namespace eddy::aws
