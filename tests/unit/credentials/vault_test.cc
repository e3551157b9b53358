#include "credentials/vault.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/clock.h"
#include "crypto/crypto.h"
#include "store/sqlite/sqlite_store.h"

namespace mg::credentials {
namespace {

namespace fs = std::filesystem;

class VaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mg_vault_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto s = store::sqlite::SqliteStore::Open((dir_ / "modelgate.db").string());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  GetEnvFn Env() {
    return [this](std::string_view k) -> std::optional<std::string> {
      auto it = env_.find(std::string(k));
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
  }
  std::string ReadAll(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::unique_ptr<Vault> OpenVault() {
    auto ring = MasterKeyring::Load(dir_.string(), Env());
    EXPECT_TRUE(ring) << ring.error().message;
    auto v = Vault::Open(*store_, std::move(*ring), clock_);
    EXPECT_TRUE(v) << v.error().message;
    return v ? std::move(*v) : nullptr;
  }

  fs::path dir_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  RealClock clock_;
};

TEST_F(VaultTest, CreatesKeyFileWithOwnerOnlyMode) {
  auto v = OpenVault();
  ASSERT_TRUE(v);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto keys = store_->ListDataKeys();
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ(keys->front().id, v->current_data_key_id());
}

TEST_F(VaultTest, RoundTripAcrossRestart) {
  store::SealedSecret sealed;
  {
    auto v = OpenVault();
    sealed = v->Seal(Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), "cred:c1:secret");
    EXPECT_EQ(sealed.data_key_id, v->current_data_key_id());
    EXPECT_EQ(sealed.ciphertext.find("wJalrXUtnFEMI"), std::string::npos);
  }
  auto v2 = OpenVault();  // same key file, same data key
  auto opened = v2->Open(sealed, "cred:c1:secret");
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->Reveal(), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  EXPECT_EQ(store_->ListDataKeys()->size(), 1u);
}

TEST_F(VaultTest, SealIsRandomised) {
  auto v = OpenVault();
  auto a = v->Seal(Secret("same"), "aad");
  auto b = v->Seal(Secret("same"), "aad");
  EXPECT_NE(a.ciphertext, b.ciphertext);
}

TEST_F(VaultTest, TamperingIsDetected) {
  auto v = OpenVault();
  auto sealed = v->Seal(Secret("top secret value"), "cred:c1:secret");
  for (size_t i = 0; i < sealed.ciphertext.size(); ++i) {
    auto bad = sealed;
    bad.ciphertext[i] ^= 0x01;
    auto r = v->Open(bad, "cred:c1:secret");
    ASSERT_FALSE(r) << "flip at byte " << i << " went unnoticed";
    EXPECT_EQ(r.error().message.find("top secret"), std::string::npos);
  }
  auto truncated = sealed;
  truncated.ciphertext.resize(10);
  EXPECT_FALSE(v->Open(truncated, "cred:c1:secret"));
}

TEST_F(VaultTest, CiphertextIsBoundToItsOwner) {
  auto v = OpenVault();
  auto sealed = v->Seal(Secret("s"), "cred:c1:secret_access_key");
  EXPECT_FALSE(v->Open(sealed, "cred:c2:secret_access_key"));
  EXPECT_FALSE(v->Open(sealed, "cred:c1:session_token"));
  auto unknown = sealed;
  unknown.data_key_id = "dk_missing";
  EXPECT_FALSE(v->Open(unknown, "cred:c1:secret_access_key"));
}

TEST_F(VaultTest, WrongMasterKeyRefusesToStart) {
  { OpenVault(); }
  env_[kMasterKeyEnv] = crypto::Base64Encode(std::string(32, 'k'));
  auto ring = MasterKeyring::Load(dir_.string(), Env());
  ASSERT_TRUE(ring);
  auto v = Vault::Open(*store_, std::move(*ring), clock_);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("not configured"), std::string::npos);
}

TEST_F(VaultTest, EnvMasterKeyIsValidated) {
  env_[kMasterKeyEnv] = "not base64!";
  EXPECT_FALSE(MasterKeyring::Load(dir_.string(), Env()));
  env_[kMasterKeyEnv] = crypto::Base64Encode("short");
  auto r = MasterKeyring::Load(dir_.string(), Env());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("32-byte"), std::string::npos);
  env_[kMasterKeyEnv] = crypto::Base64Encode(std::string(32, 'a'));
  auto ok = MasterKeyring::Load(dir_.string(), Env());
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->from_env());
  EXPECT_FALSE(fs::exists(dir_ / "master.key"));
}

TEST_F(VaultTest, RotationWithKeyFileRewrapsAndKeepsSecretsReadable) {
  store::SealedSecret sealed;
  std::string old_id;
  {
    auto v = OpenVault();
    sealed = v->Seal(Secret("rotate me"), "aad");
    old_id = MasterKeyring::Load(dir_.string(), Env())->current().id;
  }
  std::string before = ReadAll(dir_ / "master.key");
  auto report = RotateMasterKey(*store_, dir_.string(), Env(), clock_);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->old_master_key_id, old_id);
  EXPECT_NE(report->new_master_key_id, old_id);
  EXPECT_EQ(report->data_keys_rewrapped, 1u);
  for (const auto& dk : *store_->ListDataKeys()) EXPECT_EQ(dk.master_key_id, report->new_master_key_id);

  auto ring = MasterKeyring::Load(dir_.string(), Env());
  ASSERT_TRUE(ring);
  EXPECT_EQ(ring->current().id, report->new_master_key_id);
  ASSERT_EQ(ring->keys().size(), 2u);
  // Only the new key is needed now.
  std::vector<MasterKey> only_new;
  only_new.push_back(MasterKey{ring->current().id, ring->current().key});
  auto v = Vault::Open(*store_, MasterKeyring(std::move(only_new)), clock_);
  ASSERT_TRUE(v) << v.error().message;
  auto opened = (*v)->Open(sealed, "aad");
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->Reveal(), "rotate me");
  EXPECT_NE(before, ReadAll(dir_ / "master.key"));
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
}

TEST_F(VaultTest, RotationWithEnvKeyNeedsTheNewKey) {
  env_[kMasterKeyEnv] = crypto::Base64Encode(std::string(32, 'a'));
  store::SealedSecret sealed;
  { sealed = OpenVault()->Seal(Secret("env secret"), "aad"); }
  auto refused = RotateMasterKey(*store_, dir_.string(), Env(), clock_);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find(kNewMasterKeyEnv), std::string::npos);

  env_[kNewMasterKeyEnv] = crypto::Base64Encode(std::string(32, 'b'));
  auto report = RotateMasterKey(*store_, dir_.string(), Env(), clock_);
  ASSERT_TRUE(report) << report.error().message;
  env_[kMasterKeyEnv] = env_[kNewMasterKeyEnv];
  env_.erase(kNewMasterKeyEnv);
  auto v = OpenVault();
  ASSERT_TRUE(v);
  EXPECT_EQ(v->Open(sealed, "aad")->Reveal(), "env secret");
}

TEST_F(VaultTest, KeyFileParsingRejectsMismatchedIds) {
  std::string key(32, 'z');
  std::string good = MasterKeyId(key) + " " + crypto::Base64Encode(key) + "\n";
  EXPECT_TRUE(MasterKeyring::Parse(good, "f"));
  EXPECT_TRUE(MasterKeyring::Parse("# comment\n" + crypto::Base64Encode(key) + "\n", "f"));
  EXPECT_FALSE(MasterKeyring::Parse("mk_0000000000000000 " + crypto::Base64Encode(key), "f"));
  EXPECT_FALSE(MasterKeyring::Parse("# nothing\n", "f"));
}

}  // namespace
}  // namespace mg::credentials
