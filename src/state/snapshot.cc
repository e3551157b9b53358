#include "state/snapshot.h"

#include <algorithm>

#include "core/time.h"

namespace mg::state {

std::string SecretAad(std::string_view credential_id, std::string_view field) {
  std::string aad = "cred:";
  aad.append(credential_id);
  aad.push_back(':');
  aad.append(field);
  return aad;
}

providers::ProviderCredential ToProviderCredential(const store::Credential& record,
                                                   const Secret& secret_access_key,
                                                   const Secret& session_token) {
  providers::ProviderCredential p;
  p.id = record.id;
  p.cache_key = record.id + "@" + std::to_string(UnixMillis(record.secret_rotated_at)) + "@" +
                std::to_string(UnixMillis(record.updated_at));
  p.region = record.region;
  if (record.auth_type == store::AuthType::kAccessKeys) {
    p.auth = providers::AccessKeysAuth{record.access_key_id, secret_access_key, session_token};
  } else {
    providers::RoleArnAuth role;
    role.role_arn = record.role_arn;
    role.session_name = record.session_name;
    if (!record.external_id.empty()) role.external_id = record.external_id;
    p.auth = std::move(role);
  }
  return p;
}

Result<std::shared_ptr<const Snapshot>> Snapshot::Build(store::ConfigData data,
                                                        const OpenSecretFn& open_secret,
                                                        const Snapshot* previous,
                                                        uint64_t version) {
  std::shared_ptr<Snapshot> s(new Snapshot());
  s->data_ = std::move(data);
  s->version_ = version;
  auto& d = s->data_;

  for (const store::Team& t : d.teams) {
    s->teams_by_id_[t.id] = &t;
    s->teams_by_name_[t.name] = &t;
  }
  for (const store::User& u : d.users) s->users_by_id_[u.id] = &u;

  for (const store::ApiKey& k : d.api_keys) {
    if (k.revoked_at) continue;
    auto uit = s->users_by_id_.find(k.user_id);
    if (uit == s->users_by_id_.end()) continue;  // user deleted: key is dead
    const store::User& u = *uit->second;
    KeyEntry e;
    e.principal = Principal{u.id, u.name, u.role, u.team_ids, k.id};
    std::sort(e.principal.team_ids.begin(), e.principal.team_ids.end());
    const KeyEntry* old = nullptr;
    if (previous) {
      auto pit = previous->keys_by_id_.find(k.id);
      if (pit != previous->keys_by_id_.end()) old = &pit->second;
    }
    e.last_used_ms = old ? old->last_used_ms
                         : std::make_shared<std::atomic<int64_t>>(
                               k.last_used_at ? UnixMillis(*k.last_used_at) : 0);
    e.rate = old ? old->rate : std::make_shared<RateBucket>();
    auto [it, inserted] = s->keys_by_id_.emplace(k.id, std::move(e));
    s->keys_by_hash_[k.hash] = &it->second;
  }

  for (const store::Credential& c : d.credentials) {
    CredentialEntry e;
    e.record = c;
    if (c.secret_access_key) {
      MG_TRY(e.secret_access_key, open_secret(*c.secret_access_key,
                                              SecretAad(c.id, "secret_access_key")));
    }
    if (c.session_token) {
      MG_TRY(e.session_token, open_secret(*c.session_token, SecretAad(c.id, "session_token")));
    }
    e.provider = ToProviderCredential(c, e.secret_access_key, e.session_token);
    s->credentials_.emplace(c.id, std::move(e));
  }

  for (store::Model& m : d.models) {
    // TeamAccessAllows merges two sorted lists: sort here as for principals, so a source that
    // delivers team ids in another order cannot silently deny access.
    std::sort(m.team_ids.begin(), m.team_ids.end());
    auto cit = s->credentials_.find(m.credential_id);
    if (cit == s->credentials_.end()) {
      return Internal("model '" + m.id + "' references a missing credential");
    }
    cit->second.model_ids.push_back(m.id);
    std::string id = m.id;
    // Moved, not copied: the entry is the snapshot's one copy of the model (data_.models is
    // emptied below), which matters with 10,000 models.
    auto [it, inserted] = s->models_.emplace(std::move(id), ModelEntry{std::move(m), &cit->second});
    s->models_sorted_.push_back(&it->second);
  }
  d.models.clear();
  d.models.shrink_to_fit();
  for (auto& [id, c] : s->credentials_) std::sort(c.model_ids.begin(), c.model_ids.end());
  std::sort(s->models_sorted_.begin(), s->models_sorted_.end(),
            [](const ModelEntry* a, const ModelEntry* b) { return a->record.id < b->record.id; });
  return std::shared_ptr<const Snapshot>(std::move(s));
}

const KeyEntry* Snapshot::FindKeyByHash(std::string_view hash) const {
  auto it = keys_by_hash_.find(std::string(hash));
  return it == keys_by_hash_.end() ? nullptr : it->second;
}

const ModelEntry* Snapshot::FindModel(std::string_view id) const {
  auto it = models_.find(std::string(id));
  return it == models_.end() ? nullptr : &it->second;
}

const CredentialEntry* Snapshot::FindCredential(std::string_view id) const {
  auto it = credentials_.find(std::string(id));
  return it == credentials_.end() ? nullptr : &it->second;
}

const CredentialEntry* Snapshot::FindNamedCredential(std::string_view id_or_name) const {
  if (const CredentialEntry* c = FindCredential(id_or_name); c && !c->record.is_inline) return c;
  for (const auto& [id, c] : credentials_) {
    if (!c.record.is_inline && c.record.name == id_or_name) return &c;
  }
  return nullptr;
}

const store::Team* Snapshot::FindTeam(std::string_view id_or_name) const {
  if (auto it = teams_by_id_.find(std::string(id_or_name)); it != teams_by_id_.end()) {
    return it->second;
  }
  auto it = teams_by_name_.find(std::string(id_or_name));
  return it == teams_by_name_.end() ? nullptr : it->second;
}

const store::User* Snapshot::FindUser(std::string_view id) const {
  auto it = users_by_id_.find(std::string(id));
  return it == users_by_id_.end() ? nullptr : it->second;
}

bool Snapshot::TeamAccessAllows(const Principal& p, const store::Model& m) {
  if (m.all_teams) return true;
  // Both lists are sorted: linear merge.
  auto a = p.team_ids.begin(), b = m.team_ids.begin();
  while (a != p.team_ids.end() && b != m.team_ids.end()) {
    if (*a == *b) return true;
    if (*a < *b) ++a;
    else ++b;
  }
  return false;
}

}  // namespace mg::state
