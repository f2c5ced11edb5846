#include "vsm/checkpoint_store.h"

#include <cerrno>
#include <filesystem>
#include <system_error>

#include <fmt/core.h>

#include "base/atomic_file.h"

namespace vfs::vsm {
namespace {

constexpr std::string_view kSuffix = ".json";

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

std::string to_text(const Checkpoint& c) {
  nlohmann::json j{{"name", c.name},
                   {"time", c.time},
                   {"user", c.user},
                   {"running_config", c.running_config},
                   {"model", c.model}};
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<Checkpoint> from_text(const std::string& text, const std::string& path,
                             const std::string& expected_name) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return make_error(EINVAL, "checkpoint file {} is not valid JSON: {}", path, e.what());
  }
  auto bad = [&](const char* what) {
    return make_error(EINVAL, "checkpoint file {}: {}", path, what);
  };
  if (!j.is_object()) return bad("not a JSON object");
  if (!j.contains("name") || !j["name"].is_string())
    return bad("'name' is missing or not a string");
  if (!j.contains("time") || !j["time"].is_number_integer())
    return bad("'time' is missing or not an integer");
  if (!j.contains("user") || !j["user"].is_string())
    return bad("'user' is missing or not a string");
  if (!j.contains("running_config") || !j["running_config"].is_string())
    return bad("'running_config' is missing or not a string");
  Checkpoint c;
  c.name = j["name"].get<std::string>();
  if (c.name != expected_name) return bad("'name' does not match the file name");
  c.time = j["time"].get<int64_t>();
  c.user = j["user"].get<std::string>();
  c.running_config = j["running_config"].get<std::string>();
  c.model = j.contains("model") ? j["model"] : nlohmann::json(nullptr);
  return c;
}

}  // namespace

CheckpointStore::CheckpointStore(std::string dir) : dir_(std::move(dir)) {}

Result<void> CheckpointStore::check_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxCheckpointNameLen || name.front() == '.')
    return make_error(EINVAL,
                      "checkpoint name '{}' must be 1 to {} characters and not start with '.'",
                      name, kMaxCheckpointNameLen);
  for (char c : name) {
    if (!name_char(c))
      return make_error(
          EINVAL, "checkpoint name '{}' may hold only letters, digits, '_', '-' and '.'", name);
  }
  return ok();
}

std::string CheckpointStore::path_of(const std::string& name) const {
  return dir_ + "/" + name + std::string(kSuffix);
}

Result<void> CheckpointStore::load() {
  if (dir_.empty()) return ok();
  std::error_code ec;
  if (!std::filesystem::exists(dir_, ec)) return ok();
  std::map<std::string, Checkpoint> loaded;
  std::filesystem::directory_iterator it(dir_, ec);
  if (ec) return make_error(ec.value(), "checkpoint directory {}: {}", dir_, ec.message());
  for (const auto& entry : it) {
    std::string file = entry.path().filename().string();
    // Temporary files of an interrupted atomic write end otherwise; they are not ours.
    if (file.size() <= kSuffix.size() || !file.ends_with(kSuffix)) continue;
    std::string name = file.substr(0, file.size() - kSuffix.size());
    if (!check_name(name)) continue;
    auto text = read_file(entry.path().string());
    if (!text) return text.error();
    auto c = from_text(*text, entry.path().string(), name);
    if (!c) return c.error();
    loaded[name] = std::move(*c);
  }
  checkpoints_ = std::move(loaded);
  return ok();
}

Result<void> CheckpointStore::add(Checkpoint checkpoint) {
  if (auto n = check_name(checkpoint.name); !n) return n;
  if (checkpoints_.contains(checkpoint.name))
    return make_error(EEXIST,
                      "checkpoint {} already exists (remove it first with 'no checkpoint {}')",
                      checkpoint.name, checkpoint.name);
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec)
      return make_error(ec.value(), "checkpoint directory {}: cannot create: {}", dir_,
                        ec.message());
    if (auto w = write_file_atomically(path_of(checkpoint.name), to_text(checkpoint)); !w)
      return make_error(w.error().code, "cannot save checkpoint {}: {}", checkpoint.name,
                        w.error().message);
  }
  std::string name = checkpoint.name;
  checkpoints_[name] = std::move(checkpoint);
  return ok();
}

Result<void> CheckpointStore::remove(const std::string& name) {
  if (!checkpoints_.contains(name)) return make_error(ENOENT, "checkpoint {} does not exist", name);
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove(path_of(name), ec);
    if (ec)
      return make_error(ec.value(), "cannot remove checkpoint {} ({}): {}", name, path_of(name),
                        ec.message());
  }
  checkpoints_.erase(name);
  return ok();
}

const Checkpoint* CheckpointStore::find(const std::string& name) const {
  auto it = checkpoints_.find(name);
  return it == checkpoints_.end() ? nullptr : &it->second;
}

}  // namespace vfs::vsm
