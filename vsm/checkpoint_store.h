// vsm/checkpoint_store.h owns configuration checkpoints (`checkpoint NAME`): a named copy
// of the running-config text (what a rollback replays through the parser) and of the
// model as data, with when and by whom it was taken. Each checkpoint is one JSON file in
// its directory (<state-dir>/checkpoints/NAME.json), written atomically, so checkpoints
// survive a daemon restart and a crash leaves a checkpoint whole or absent.
//
// Not thread-safe: the Supervisor calls it with its mutex held.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace vfs::vsm {

inline constexpr size_t kMaxCheckpointNameLen = 64;

struct Checkpoint {
  std::string name;
  int64_t time = 0;  // seconds since the epoch (UTC)
  std::string user;
  std::string running_config;  // rendered text; rollback replays it
  nlohmann::json model;        // model_json() at the same instant, for `| json` readers
  bool operator==(const Checkpoint&) const = default;
};

class CheckpointStore {
 public:
  // dir "" keeps checkpoints in memory only (tests, a supervisor without a state dir).
  explicit CheckpointStore(std::string dir = {});

  // Reads every NAME.json in the directory (a missing directory is an empty store). A
  // file that is not a checkpoint is an error naming it; the store is then unchanged.
  Result<void> load();

  // Names are letters, digits, '_', '-' and '.', not starting with '.', at most
  // kMaxCheckpointNameLen characters: they become file names.
  static Result<void> check_name(const std::string& name);

  // Refused if the name is taken or the file cannot be written (then nothing changes).
  Result<void> add(Checkpoint checkpoint);
  Result<void> remove(const std::string& name);

  const Checkpoint* find(const std::string& name) const;
  const std::map<std::string, Checkpoint>& all() const { return checkpoints_; }

 private:
  std::string path_of(const std::string& name) const;

  std::string dir_;
  std::map<std::string, Checkpoint> checkpoints_;
};

}  // namespace vfs::vsm
