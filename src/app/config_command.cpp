#include "app/config_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/serialize.hpp>

#include "app/secret_mask.hpp"

namespace cablecast::app {

namespace {

// The type name secret_option gives its options in main.cpp: the one mark of a secret.
constexpr std::string_view kSecretType = "SECRET";

bool given_on_command_line(const std::string& flag, const std::vector<std::string>& args) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& arg) {
    return arg == flag ||
           (arg.starts_with(flag) && arg.size() > flag.size() && arg[flag.size()] == '=');
  });
}

std::string source_of(const CLI::Option& option, const std::string& key,
                      const ConfigSources& sources, const std::vector<std::string>& args) {
  for (const auto& name : option.get_lnames()) {
    if (given_on_command_line("--" + name, args)) return "flag";
  }
  const std::string& env = option.get_envname();
  if (!env.empty() && sources.getenv(env.c_str())) return "env " + env;
  if (auto it = sources.anycable.find(key); it != sources.anycable.end()) {
    return "env " + it->second;
  }
  if (std::find(sources.file_keys.begin(), sources.file_keys.end(), key) !=
      sources.file_keys.end()) {
    return "file " + sources.file_path;
  }
  return "default";
}

// Strings quoted (JSON escapes, also valid TOML), numbers and booleans bare: the listing reads
// back as a config file.
std::string render(const CLI::Option& option, const std::string& value) {
  const std::string type = option.get_type_name();
  const bool bare = !value.empty() && (type == "UINT" || type == "INT" || type == "NUMBER" ||
                                       value == "true" || value == "false");
  if (bare) return value;
  return boost::json::serialize(boost::json::string_view(value));
}

}  // namespace

void print_config(CLI::App& serve, const ConfigSources& sources,
                  const std::vector<std::string>& args, std::FILE* out) {
  for (CLI::Option* option : serve.get_options()) {
    if (option == serve.get_help_ptr() || option == serve.get_help_all_ptr()) continue;
    if (option->get_lnames().empty()) continue;
    std::string key = option->get_lnames().front();
    std::replace(key.begin(), key.end(), '-', '_');
    // The value the option's variable holds now: after the file, the environment and the flags.
    option->capture_default_str();
    std::string value = option->get_default_str();
    // Switches (no type name) and boolean options: their results or default, as true/false.
    const std::string type = option->get_type_name();
    if (type.empty() || type == "BOOLEAN") value = option->as<bool>() ? "true" : "false";
    value = option->get_type_name() == kSecretType ? masked_secret(value) : mask_passwords(value);
    const std::string line = fmt::format("{} = {}", key, render(*option, value));
    std::fprintf(out, "%-48s # %s\n", line.c_str(), source_of(*option, key, sources, args).c_str());
  }
}

}  // namespace cablecast::app
