#pragma once
// `cablecast config [--config F] [flags]`: the settings `serve` would run with, one per line,
// with where each came from, secrets masked. It is `serve`'s own parser (main.cpp registers
// the options once), so every flag serve accepts is listed, including ones added later.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace cablecast::app {

// What main.cpp learned while reading the sources below the command line.
struct ConfigSources {
  std::string file_path;                        // --config / CABLECAST_CONFIG; may be empty
  std::vector<std::string> file_keys;           // the settings that file sets (config_file_keys)
  std::map<std::string, std::string> anycable;  // setting -> the ANYCABLE_* variable that set it
  std::function<const char*(const char*)> getenv;
};

// Prints, after `serve` parsed `args` (the arguments after the subcommand's name):
//   port = 9000                              # flag
//   redis_url = "redis://:****@cache:6379/0" # env CABLECAST_REDIS_URL
//   secret = "****"                          # file /etc/cablecast.toml
// Options registered with secret_option (type name "SECRET") show "****" when set; every value
// has the passwords of URLs and conninfo strings masked (app/secret_mask.hpp).
void print_config(CLI::App& serve, const ConfigSources& sources,
                  const std::vector<std::string>& args, std::FILE* out);

}  // namespace cablecast::app
