// @file vault.h
// @brief The credential vault: envelope encryption of provider secrets at rest.
//
// Two levels of keys:
//  - master keys (32 bytes) live outside the database: MODELGATE_MASTER_KEY (base64), or the key
//    file <data_dir>/master.key (mode 0600, created on first start). Each has an id derived from
//    its bytes ("mk_" + 16 hex of SHA-256), so a rotated key is recognised without storing it.
//  - data keys (32 bytes) live in the database, each wrapped (AES-256-GCM) by one master key and
//    recording that master key's id.
// A secret is sealed with AES-256-GCM under the current data key, bound to an AAD naming its
// owner and field (state::SecretAad), and stored with the data key's id. Rotating the master key
// re-wraps every data key in one transaction; running servers keep their unwrapped data keys, so
// rotation needs no downtime.
//
// Thread-safety: a Vault is immutable after Open; Seal/Open may be called from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "core/secret.h"
#include "store/records.h"
#include "store/store.h"

namespace mg::credentials {

using GetEnvFn = std::function<std::optional<std::string>(std::string_view)>;

inline constexpr char kMasterKeyEnv[] = "MODELGATE_MASTER_KEY";
// Older master keys still accepted for unwrapping (comma-separated base64), e.g. during an
// env-based rotation.
inline constexpr char kPreviousMasterKeysEnv[] = "MODELGATE_MASTER_KEY_PREVIOUS";
// The replacement key `vault rotate-key` uses when the master key comes from the environment.
inline constexpr char kNewMasterKeyEnv[] = "MODELGATE_NEW_MASTER_KEY";
inline constexpr char kMasterKeyFile[] = "master.key";

struct MasterKey {
  std::string id;  // "mk_<16 hex>"
  Secret key;      // 32 bytes
};

// "mk_" + the first 16 hex digits of SHA-256("modelgate master key id" | key).
std::string MasterKeyId(std::string_view key_bytes);

class MasterKeyring {
 public:
  // From the environment if MODELGATE_MASTER_KEY is set, else from <data_dir>/master.key,
  // creating it (0600, a fresh random key) when absent. Errors name the source, never the key.
  static Result<MasterKeyring> Load(const std::string& data_dir, const GetEnvFn& getenv);
  // The key file's text form: one "<id> <base64>" line per key, the current one first.
  static Result<MasterKeyring> Parse(std::string_view text, std::string_view source);

  const MasterKey& current() const { return keys_.front(); }
  const MasterKey* Find(std::string_view id) const;
  const std::vector<MasterKey>& keys() const { return keys_; }
  bool from_env() const { return from_env_; }

  explicit MasterKeyring(std::vector<MasterKey> keys, bool from_env = false)
      : keys_(std::move(keys)), from_env_(from_env) {}

 private:
  std::vector<MasterKey> keys_;  // never empty
  bool from_env_ = false;
};

// Writes the keyring to `path` atomically (temp file 0600, fsync, rename).
Result<void> WriteKeyFile(const std::string& path, const MasterKeyring& ring);

class Vault {
 public:
  // Unwraps every data key in the store; creates the first one if there is none.
  static Result<std::unique_ptr<Vault>> Open(store::Store& store, MasterKeyring keyring,
                                             const Clock& clock);

  // Seals `secret` under the current data key, bound to `aad`.
  store::SealedSecret Seal(const Secret& secret, std::string_view aad) const;
  // Opens a sealed secret. Errors (unknown data key, tampering, wrong aad) never contain
  // ciphertext or plaintext.
  Result<Secret> Open(const store::SealedSecret& sealed, std::string_view aad) const;

  const std::string& current_data_key_id() const { return current_; }

 private:
  Vault() = default;
  std::map<std::string, Secret, std::less<>> data_keys_;
  std::string current_;
};

struct RotationReport {
  std::string old_master_key_id;
  std::string new_master_key_id;
  size_t data_keys_rewrapped = 0;
  std::string summary;  // one line for the operator
};

// Generates a new master key (or takes MODELGATE_NEW_MASTER_KEY when the current key comes from
// the environment), re-wraps every data key under it in one transaction and, for the key file,
// writes the new key first while keeping older keys for unwrapping stragglers.
Result<RotationReport> RotateMasterKey(store::Store& store, const std::string& data_dir,
                                       const GetEnvFn& getenv, const Clock& clock);

}  // namespace mg::credentials
