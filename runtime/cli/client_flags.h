// What the client subcommands (stream tail, trigger, ttl) say about the
// flags they share.
#ifndef EDDY_RUNTIME_CLI_CLIENT_FLAGS_H_
#define EDDY_RUNTIME_CLI_CLIENT_FLAGS_H_

namespace eddy::runtime::cli {

inline constexpr char kCaBundleHelp[] =
    "PEM file of the CA certificates to verify an https:// endpoint with "
    "(default: $AWS_CA_BUNDLE, else the system's)";

}  // namespace eddy::runtime::cli

#endif  // EDDY_RUNTIME_CLI_CLIENT_FLAGS_H_
