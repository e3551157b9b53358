#include "credentials/vault.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/ids.h"
#include "core/log.h"
#include "crypto/aead.h"
#include "crypto/crypto.h"

namespace mg::credentials {
namespace {

constexpr std::string_view kDataKeyAadPrefix = "modelgate data key:";

std::string DataKeyAad(std::string_view id) {
  return std::string(kDataKeyAadPrefix) + std::string(id);
}

Result<MasterKey> DecodeKey(std::string_view b64, std::string_view source) {
  // Tolerate surrounding whitespace (a trailing newline from `echo`).
  while (!b64.empty() && isspace(static_cast<unsigned char>(b64.back()))) b64.remove_suffix(1);
  while (!b64.empty() && isspace(static_cast<unsigned char>(b64.front()))) b64.remove_prefix(1);
  std::optional<std::string> raw = crypto::Base64Decode(b64);
  if (!raw || raw->size() != crypto::kAeadKeySize) {
    if (raw) crypto::Cleanse(raw->data(), raw->size());
    return Internal(std::string(source) + " is not a base64-encoded 32-byte key");
  }
  MasterKey k{MasterKeyId(*raw), Secret(std::move(*raw))};
  return k;
}

std::string ErrnoText() { return std::strerror(errno); }

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Internal("cannot read the master key file " + path + ": " + ErrnoText());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string MasterKeyId(std::string_view key_bytes) {
  std::string input = "modelgate master key id|";
  input.append(key_bytes);
  std::string hex = crypto::Sha256Hex(input);
  crypto::Cleanse(input.data(), input.size());
  return "mk_" + hex.substr(0, 16);
}

const MasterKey* MasterKeyring::Find(std::string_view id) const {
  for (const MasterKey& k : keys_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

Result<MasterKeyring> MasterKeyring::Parse(std::string_view text, std::string_view source) {
  std::vector<MasterKey> keys;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    while (!line.empty() && isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    // "<id> <base64>" or a bare base64 key (written by hand).
    size_t sp = line.find(' ');
    std::string_view b64 = sp == std::string_view::npos ? line : line.substr(sp + 1);
    auto k = DecodeKey(b64, std::string(source) + " line " + std::to_string(line_no));
    if (!k) return k.error();
    if (sp != std::string_view::npos && line.substr(0, sp) != k->id) {
      return Internal(std::string(source) + " line " + std::to_string(line_no) +
                      ": the key id does not match the key");
    }
    keys.push_back(std::move(*k));
  }
  if (keys.empty()) return Internal(std::string(source) + " holds no key");
  return MasterKeyring(std::move(keys));
}

Result<void> WriteKeyFile(const std::string& path, const MasterKeyring& ring) {
  std::string text =
      "# modelgate master keys: the first line is current, later lines only unwrap old data keys.\n"
      "# Keep this file secret and backed up: without it the stored credentials cannot be read.\n";
  for (const MasterKey& k : ring.keys()) {
    text += k.id + " " + crypto::Base64Encode(k.key.Reveal()) + "\n";
  }
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    crypto::Cleanse(text.data(), text.size());
    return Internal("cannot create " + tmp + ": " + ErrnoText());
  }
  ::fchmod(fd, 0600);
  size_t off = 0;
  bool ok = true;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    off += static_cast<size_t>(n);
  }
  crypto::Cleanse(text.data(), text.size());
  if (ok && ::fsync(fd) != 0) ok = false;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = ErrnoText();
    ::unlink(tmp.c_str());
    return Internal("cannot write " + path + ": " + why);
  }
  // Make the rename durable.
  std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos
                                       ? 1
                                       : path.find_last_of('/'));
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

Result<MasterKeyring> MasterKeyring::Load(const std::string& data_dir, const GetEnvFn& getenv) {
  if (std::optional<std::string> env = getenv(kMasterKeyEnv); env && !env->empty()) {
    auto current = DecodeKey(*env, kMasterKeyEnv);
    crypto::Cleanse(env->data(), env->size());
    if (!current) return current.error();
    std::vector<MasterKey> keys;
    keys.push_back(std::move(*current));
    if (std::optional<std::string> prev = getenv(kPreviousMasterKeysEnv); prev && !prev->empty()) {
      std::string_view rest = *prev;
      while (!rest.empty()) {
        size_t comma = rest.find(',');
        auto k = DecodeKey(rest.substr(0, comma), kPreviousMasterKeysEnv);
        if (!k) {
          crypto::Cleanse(prev->data(), prev->size());
          return k.error();
        }
        keys.push_back(std::move(*k));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
      crypto::Cleanse(prev->data(), prev->size());
    }
    return MasterKeyring(std::move(keys), /*from_env=*/true);
  }

  std::string path = data_dir + "/" + kMasterKeyFile;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return Internal("cannot stat " + path + ": " + ErrnoText());
    std::string raw = crypto::RandomBytes(crypto::kAeadKeySize);
    std::vector<MasterKey> keys;
    keys.push_back(MasterKey{MasterKeyId(raw), Secret(std::move(raw))});
    MasterKeyring ring(std::move(keys));
    MG_TRY_VOID(WriteKeyFile(path, ring));
    log::Info("master_key_created", {{"path", path}, {"master_key_id", ring.current().id}});
    return ring;
  }
  if ((st.st_mode & 077) != 0) {
    log::Warn("master_key_file_permissions",
              {{"path", path}, {"hint", "the key file should be readable by its owner only "
                                        "(chmod 600)"}});
  }
  MG_TRY(std::string text, ReadFile(path));
  auto ring = Parse(text, path);
  crypto::Cleanse(text.data(), text.size());
  return ring;
}

Result<std::unique_ptr<Vault>> Vault::Open(store::Store& store, MasterKeyring keyring,
                                           const Clock& clock) {
  MG_TRY(std::vector<store::DataKey> stored, store.ListDataKeys());
  std::unique_ptr<Vault> v(new Vault());
  SystemTime newest{};
  for (const store::DataKey& dk : stored) {
    const MasterKey* mk = keyring.Find(dk.master_key_id);
    if (!mk) {
      return Internal("data key " + dk.id + " is wrapped by master key " + dk.master_key_id +
                      ", which is not configured (current master key is " +
                      keyring.current().id + "); set " + kMasterKeyEnv + " or restore " +
                      kMasterKeyFile);
    }
    std::optional<std::string> raw = crypto::AeadOpen(mk->key.Reveal(), dk.wrapped, DataKeyAad(dk.id));
    if (!raw || raw->size() != crypto::kAeadKeySize) {
      return Internal("data key " + dk.id + " failed authentication under master key " +
                      dk.master_key_id + " (wrong key or tampered database)");
    }
    v->data_keys_.emplace(dk.id, Secret(std::move(*raw)));
    if (v->current_.empty() || dk.created_at >= newest) {
      newest = dk.created_at;
      v->current_ = dk.id;
    }
  }
  if (v->data_keys_.empty()) {
    std::string raw = crypto::RandomBytes(crypto::kAeadKeySize);
    store::DataKey dk;
    dk.id = NewId("dk", clock.Now());
    dk.master_key_id = keyring.current().id;
    dk.wrapped = crypto::AeadSeal(keyring.current().key.Reveal(), raw, DataKeyAad(dk.id));
    dk.created_at = clock.Now();
    MG_TRY_VOID(store.InsertDataKey(dk));
    v->data_keys_.emplace(dk.id, Secret(std::move(raw)));
    v->current_ = dk.id;
    log::Info("data_key_created", {{"data_key_id", dk.id}, {"master_key_id", dk.master_key_id}});
  }
  return v;
}

store::SealedSecret Vault::Seal(const Secret& secret, std::string_view aad) const {
  const Secret& key = data_keys_.find(current_)->second;
  return store::SealedSecret{current_, crypto::AeadSeal(key.Reveal(), secret.Reveal(), aad)};
}

Result<Secret> Vault::Open(const store::SealedSecret& sealed, std::string_view aad) const {
  auto it = data_keys_.find(sealed.data_key_id);
  if (it == data_keys_.end()) {
    return Internal("secret sealed with unknown data key " + sealed.data_key_id);
  }
  std::optional<std::string> plain = crypto::AeadOpen(it->second.Reveal(), sealed.ciphertext, aad);
  if (!plain) {
    return Internal("a stored secret failed authentication (" + std::string(aad) +
                    "): the database was modified or the wrong key is configured");
  }
  return Secret(std::move(*plain));
}

Result<RotationReport> RotateMasterKey(store::Store& store, const std::string& data_dir,
                                       const GetEnvFn& getenv, const Clock& clock) {
  MG_TRY(MasterKeyring ring, MasterKeyring::Load(data_dir, getenv));
  MasterKey fresh;
  if (ring.from_env()) {
    std::optional<std::string> next = getenv(kNewMasterKeyEnv);
    if (!next || next->empty()) {
      return InvalidArgument(std::string("the master key comes from ") + kMasterKeyEnv + "; set " +
                             kNewMasterKeyEnv + " to the new base64 key (e.g. `openssl rand "
                             "-base64 32`) and run rotate-key again");
    }
    auto k = DecodeKey(*next, kNewMasterKeyEnv);
    crypto::Cleanse(next->data(), next->size());
    if (!k) return k.error();
    fresh = std::move(*k);
  } else {
    std::string raw = crypto::RandomBytes(crypto::kAeadKeySize);
    fresh = MasterKey{MasterKeyId(raw), Secret(std::move(raw))};
  }
  if (ring.Find(fresh.id)) {
    return InvalidArgument("the new master key is already in use; generate a different one");
  }

  MG_TRY(std::vector<store::DataKey> keys, store.ListDataKeys());
  std::vector<store::DataKey> rewrapped;
  for (const store::DataKey& dk : keys) {
    const MasterKey* mk = ring.Find(dk.master_key_id);
    if (!mk) {
      return Internal("data key " + dk.id + " is wrapped by master key " + dk.master_key_id +
                      ", which is not configured; nothing was changed");
    }
    std::optional<std::string> raw = crypto::AeadOpen(mk->key.Reveal(), dk.wrapped, DataKeyAad(dk.id));
    if (!raw) {
      return Internal("data key " + dk.id + " failed authentication; nothing was changed");
    }
    store::DataKey out = dk;
    out.master_key_id = fresh.id;
    out.wrapped = crypto::AeadSeal(fresh.key.Reveal(), *raw, DataKeyAad(dk.id));
    crypto::Cleanse(raw->data(), raw->size());
    rewrapped.push_back(std::move(out));
  }

  RotationReport report;
  report.old_master_key_id = ring.current().id;
  report.new_master_key_id = fresh.id;
  report.data_keys_rewrapped = rewrapped.size();

  std::vector<MasterKey> next_keys;
  next_keys.push_back(MasterKey{fresh.id, fresh.key});
  for (const MasterKey& k : ring.keys()) next_keys.push_back(MasterKey{k.id, k.key});
  MasterKeyring next(std::move(next_keys));
  std::string path = data_dir + "/" + kMasterKeyFile;
  if (!ring.from_env()) {
    // The new key reaches disk before any data key depends on it.
    MG_TRY_VOID(WriteKeyFile(path, next));
  }

  store::AuditEvent audit;
  audit.at = clock.Now();
  audit.actor = "system";
  audit.action = "vault.rotate_master_key";
  audit.target = fresh.id;
  audit.details = "{\"old_master_key_id\":\"" + report.old_master_key_id +
                  "\",\"new_master_key_id\":\"" + fresh.id +
                  "\",\"data_keys_rewrapped\":" + std::to_string(rewrapped.size()) + "}";
  MG_TRY_VOID(store.RewrapDataKeys(rewrapped, audit));

  report.summary = "rotated master key " + report.old_master_key_id + " -> " + fresh.id + ": " +
                   std::to_string(rewrapped.size()) + " data key(s) re-wrapped";
  if (ring.from_env()) {
    report.summary += std::string("; now set ") + kMasterKeyEnv + " to the value of " +
                      kNewMasterKeyEnv + " (keep the old value in " + kPreviousMasterKeysEnv +
                      " until every server has restarted)";
  } else {
    report.summary += "; " + path + " now lists the new key first (older keys are kept to "
                      "read data keys of servers that have not restarted yet)";
  }
  return report;
}

}  // namespace mg::credentials
