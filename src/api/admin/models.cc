// Models (admin-api "Models"): add several of a provider's models at once from the region's
// live catalog, with a named or inline credential and team access; read, list, patch, delete.
#include <algorithm>
#include <set>

#include "api/admin/admin_common.h"
#include "core/ids.h"
#include "core/time.h"
#include "server/blocking.h"
#include "store/enum_names.h"

namespace mg::api::admin::detail {
namespace {

namespace asio = boost::asio;

struct TeamAccess {
  bool all_teams = false;
  std::vector<std::string> team_ids;  // sorted, unique
};

Result<TeamAccess> ParseTeamAccess(const state::Snapshot& snap, const json::object& o) {
  MG_TRY_VOID(OnlyKeys(o, {"all_teams", "teams"}, "team_access"));
  MG_TRY(auto all, OptBool(o, "all_teams", "team_access"));
  MG_TRY(auto refs, OptStringArray(o, "teams", "team_access"));
  TeamAccess ta;
  ta.all_teams = all.value_or(false);
  if (ta.all_teams && refs && !refs->empty()) {
    return InvalidArgument("Give either 'all_teams': true or a list of 'teams', not both.",
                           "team_access");
  }
  if (!ta.all_teams && !refs) {
    return InvalidArgument("'team_access' must be {\"all_teams\": true} or "
                           "{\"teams\": [team ids or names]}.",
                           "team_access");
  }
  for (size_t i = 0; refs && i < refs->size(); ++i) {
    const store::Team* t = snap.FindTeam((*refs)[i]);
    if (!t) {
      return InvalidArgument("Unknown team '" + (*refs)[i] + "'.",
                             "team_access.teams[" + std::to_string(i) + "]", "team_not_found");
    }
    ta.team_ids.push_back(t->id);
  }
  std::sort(ta.team_ids.begin(), ta.team_ids.end());
  ta.team_ids.erase(std::unique(ta.team_ids.begin(), ta.team_ids.end()), ta.team_ids.end());
  return ta;
}

Result<void> CheckModelId(std::string_view id, const std::string& param) {
  bool ok = !id.empty() && id.size() <= 256;
  for (char c : id) ok = ok && static_cast<unsigned char>(c) > 0x20 && c != 0x7f;
  if (!ok) {
    return InvalidArgument("'" + param + "' must be 1-256 printable characters without spaces.",
                           param);
  }
  return {};
}

json::object RenderModel(const Deps& d, const state::Snapshot& snap, const store::Model& m) {
  json::object o;
  o["id"] = m.id;
  o["name"] = m.name;
  o["provider"] = m.provider;
  o["provider_model_id"] = m.provider_model_id;
  o["region"] = m.region;
  const state::CredentialEntry* c = snap.FindCredential(m.credential_id);
  if (c && c->record.is_inline) {
    o["credential"] = json::object{{"inline", true},
                                   {"auth_type", AuthTypeText(c->record.auth_type)}};
  } else {
    o["credential"] = json::object{{"id", m.credential_id},
                                   {"name", c ? c->record.name : std::string()}};
  }
  json::array teams;
  for (const auto& t : m.team_ids) teams.emplace_back(TeamRef(snap, t));
  o["team_access"] = json::object{{"all_teams", m.all_teams}, {"teams", std::move(teams)}};
  o["lifecycle"] = m.lifecycle.empty() ? json::value(nullptr) : json::value(m.lifecycle);
  o["health"] = RenderHealth(d, snap, m.id);
  o["created_at"] = TimeValue(m.created_at);
  o["updated_at"] = TimeValue(m.updated_at);
  return o;
}

json::object AuditDetails(const store::Model& m) {
  json::array teams;
  for (const auto& t : m.team_ids) teams.emplace_back(t);
  return json::object{{"provider", m.provider},
                      {"provider_model_id", m.provider_model_id},
                      {"region", m.region},
                      {"credential_id", m.credential_id},
                      {"all_teams", m.all_teams},
                      {"teams", std::move(teams)}};
}

// Finds `provider_model_id` in the catalog. Inference-profile ids ("us.anthropic....") are
// accepted when their base model is in the catalog.
const CatalogEntry* FindInCatalog(const std::vector<CatalogEntry>& catalog, std::string_view id) {
  for (const auto& e : catalog) {
    if (e.provider_model_id == id) return &e;
  }
  for (std::string_view geo : {"us.", "eu.", "apac.", "global.", "us-gov.", "ca.", "jp."}) {
    if (id.substr(0, geo.size()) == geo) {
      std::string_view base = id.substr(geo.size());
      for (const auto& e : catalog) {
        if (e.provider_model_id == base) return &e;
      }
    }
  }
  return nullptr;
}

// What a POST /models or a credential switch resolved to before touching the store.
struct CredentialChoice {
  const state::CredentialEntry* named = nullptr;  // a named credential, or
  std::optional<ParsedAuth> inline_auth;          // inline auth
};

Result<CredentialChoice> ParseCredentialChoice(const Deps& d, const state::Snapshot& snap,
                                               const json::object& body,
                                               const ProviderInfo& provider, bool required) {
  MG_TRY(auto cred_ref, OptString(body, "credential"));
  MG_TRY(const json::object* auth_obj, OptObject(body, "auth"));
  CredentialChoice c;
  if (cred_ref && auth_obj) {
    return InvalidArgument("Give either 'credential' (a saved credential) or 'auth' (inline "
                           "credentials), not both.",
                           "credential");
  }
  if (cred_ref) {
    c.named = snap.FindNamedCredential(*cred_ref);
    if (!c.named) {
      return InvalidArgument("No credential '" + *cred_ref + "'.", "credential",
                             "credential_not_found");
    }
    if (c.named->record.provider != provider.id) {
      return InvalidArgument("Credential '" + c.named->record.name + "' is for provider '" +
                                 c.named->record.provider + "'.",
                             "credential");
    }
  } else if (auth_obj) {
    MG_TRY(c.inline_auth, ParseAuth(*auth_obj, "auth", provider));
  } else if (required) {
    return InvalidArgument("Give 'credential' (a saved credential's id or name) or 'auth' "
                           "(inline credentials).",
                           "credential");
  }
  return c;
}

ResolvedCredential ResolveChoice(const CredentialChoice& c, const std::string& provider,
                                 const std::string& region) {
  if (c.named) {
    ResolvedCredential r = ResolveStored(*c.named);
    return r;
  }
  return ResolveInline(*c.inline_auth, provider, region);
}

store::Credential NewInlineCredential(const Deps& d, const ParsedAuth& auth,
                                      const std::string& provider, const std::string& region,
                                      SystemTime now) {
  store::Credential cred;
  cred.id = NewId("cred", now);
  cred.is_inline = true;
  cred.provider = provider;
  cred.region = region;
  cred.created_at = cred.updated_at = cred.secret_rotated_at = now;
  ApplyAuth(d, auth, cred);
  return cred;
}

asio::awaitable<Result<std::vector<CatalogEntry>>> FetchCatalog(Deps& d, ResolvedCredential cred,
                                                                 std::string region) {
  ProviderGateway* gw = d.gateway ? d.gateway(cred.record.provider) : nullptr;
  if (!gw) {
    co_return InvalidArgument("Provider '" + cred.record.provider + "' is not available yet.",
                              "provider", "provider_not_available");
  }
  auto catalog = co_await gw->ListCatalog(std::move(cred), std::move(region));
  if (!catalog) {
    Error e = catalog.error();
    // The catalog is asked with the admin's credentials: say why it failed in admin words.
    if (!e.health_message.empty()) e.message = "The provider's catalog could not be read: " +
                                               e.health_message;
    co_return e;
  }
  co_return catalog;
}

asio::awaitable<Result<Reply>> AddModels(Deps& d, Call call) {
  auto body = ParseObject(call.req.body);
  if (!body) co_return body.error();
  if (auto ok = OnlyKeys(*body, {"provider", "credential", "auth", "region", "models", "team_access"});
      !ok) {
    co_return ok.error();
  }
  auto provider_id = ReqString(*body, "provider");
  if (!provider_id) co_return provider_id.error();
  auto provider = FindAvailableProvider(d, *provider_id, "provider");
  if (!provider) co_return provider.error();
  auto choice = ParseCredentialChoice(d, *call.snap, *body, **provider, true);
  if (!choice) co_return choice.error();
  auto region_opt = OptString(*body, "region");
  if (!region_opt) co_return region_opt.error();
  std::string region;
  if (*region_opt) {
    region = **region_opt;
  } else if (choice->named) {
    region = choice->named->record.region;
  } else {
    co_return InvalidArgument("'region' is required with inline credentials.", "region");
  }
  if (auto ok = CheckRegion(**provider, region, "region"); !ok) co_return ok.error();

  const json::value* models_v = body->if_contains("models");
  if (!models_v || !models_v->is_array() || models_v->as_array().empty()) {
    co_return InvalidArgument("'models' must be a non-empty array of "
                              "{\"provider_model_id\": ...}.",
                              "models");
  }
  const json::array& models_in = models_v->as_array();
  if (models_in.size() > 200) co_return InvalidArgument("At most 200 models at once.", "models");

  TeamAccess access;
  auto ta_obj = OptObject(*body, "team_access");
  if (!ta_obj) co_return ta_obj.error();
  if (*ta_obj) {
    auto ta = ParseTeamAccess(*call.snap, **ta_obj);
    if (!ta) co_return ta.error();
    access = std::move(*ta);
  }

  struct Wanted {
    std::string provider_model_id, id, name, lifecycle;
    std::vector<std::string> input_modalities;
  };
  std::vector<Wanted> wanted;
  std::set<std::string> ids;
  for (size_t i = 0; i < models_in.size(); ++i) {
    std::string path = "models[" + std::to_string(i) + "]";
    if (!models_in[i].is_object()) co_return InvalidArgument("'" + path + "' must be an object.", path);
    const json::object& m = models_in[i].as_object();
    if (auto ok = OnlyKeys(m, {"provider_model_id", "id", "name"}, path); !ok) co_return ok.error();
    auto pmid = ReqString(m, "provider_model_id", path);
    if (!pmid) co_return pmid.error();
    if (auto ok = CheckModelId(*pmid, path + ".provider_model_id"); !ok) co_return ok.error();
    auto id = OptString(m, "id", path);
    if (!id) co_return id.error();
    auto name = OptString(m, "name", path);
    if (!name) co_return name.error();
    Wanted w{*pmid, id->value_or(*pmid), name->value_or(""), ""};
    if (auto ok = CheckModelId(w.id, path + ".id"); !ok) co_return ok.error();
    if (w.name.size() > 200) co_return InvalidArgument("'" + path + ".name' is too long.", path + ".name");
    if (!ids.insert(w.id).second) {
      co_return Conflict("id_taken", "Model id '" + w.id + "' appears twice in the request.",
                         path + ".id");
    }
    if (call.snap->FindModel(w.id)) {
      co_return Conflict("id_taken", "A model with id '" + w.id + "' already exists.", path + ".id");
    }
    wanted.push_back(std::move(w));
  }

  // The provider must offer each model in this region, asked with these credentials.
  auto catalog = co_await FetchCatalog(d, ResolveChoice(*choice, (*provider)->id, region), region);
  if (!catalog) co_return catalog.error();
  for (size_t i = 0; i < wanted.size(); ++i) {
    const CatalogEntry* e = FindInCatalog(*catalog, wanted[i].provider_model_id);
    if (!e) {
      co_return Error(ErrorCode::kUnprocessable, "model_not_in_catalog",
                      "Model '" + wanted[i].provider_model_id + "' is not in the " +
                          (*provider)->name + " catalog for region " + region + ".",
                      "models[" + std::to_string(i) + "].provider_model_id");
    }
    if (wanted[i].name.empty()) wanted[i].name = e->name.empty() ? wanted[i].id : e->name;
    wanted[i].lifecycle = e->lifecycle;
    wanted[i].input_modalities = e->input_modalities;
  }

  auto result = co_await server::RunBlocking(d.store_pool, [&]() -> Result<Reply> {
    SystemTime now = d.clock.Now();
    std::vector<store::Credential> inline_creds;
    std::vector<store::Model> models;
    for (const Wanted& w : wanted) {
      store::Model m;
      m.id = w.id;
      m.name = w.name;
      m.provider = (*provider)->id;
      m.provider_model_id = w.provider_model_id;
      m.lifecycle = w.lifecycle;
      m.input_modalities = w.input_modalities;
      m.region = region;
      if (choice->named) {
        m.credential_id = choice->named->record.id;
      } else {
        // Inline credentials belong to one model each, so editing one model never changes
        // another's.
        inline_creds.push_back(NewInlineCredential(d, *choice->inline_auth, m.provider, region, now));
        m.credential_id = inline_creds.back().id;
      }
      m.all_teams = access.all_teams;
      m.team_ids = access.team_ids;
      m.created_at = m.updated_at = now;
      models.push_back(std::move(m));
    }
    json::array added;
    for (const auto& m : models) added.emplace_back(m.id);
    json::object details{{"models", std::move(added)},
                         {"provider", (*provider)->id},
                         {"region", region},
                         {"inline_credentials", !inline_creds.empty()}};
    MG_TRY_VOID(d.store.CreateModels(
        inline_creds, models, MakeAudit(call, now, "model.create", models.front().id, details)));
    MG_TRY(auto snap, Publish(d));
    json::array out;
    std::vector<std::string> model_ids;
    for (const auto& m : models) {
      out.emplace_back(RenderModel(d, *snap, m));
      model_ids.push_back(m.id);
    }
    if (d.on_models_changed) d.on_models_changed(model_ids);
    return JsonReply(201, json::object{{"models", std::move(out)}});
  });
  co_return result;
}

asio::awaitable<Result<Reply>> PatchModel(Deps& d, Call call) {
  const std::string id = call.req.path_params.at("id");
  const state::ModelEntry* entry = call.snap->FindModel(id);
  if (!entry) co_return NotFound("model_not_found", "No model '" + id + "'.");
  auto body = ParseObject(call.req.body);
  if (!body) co_return body.error();
  if (auto ok = OnlyKeys(*body, {"name", "team_access", "credential", "auth", "region"}); !ok) {
    co_return ok.error();
  }
  const ProviderInfo* provider = nullptr;
  for (const auto& p : d.providers) {
    if (p.id == entry->record.provider) provider = &p;
  }
  if (!provider) co_return Internal("model has unknown provider '" + entry->record.provider + "'");
  auto name = OptString(*body, "name");
  if (!name) co_return name.error();
  if (*name && ((*name)->empty() || (*name)->size() > 200)) {
    co_return InvalidArgument("'name' must be 1-200 characters.", "name");
  }
  std::optional<TeamAccess> access;
  auto ta_obj = OptObject(*body, "team_access");
  if (!ta_obj) co_return ta_obj.error();
  if (*ta_obj) {
    auto ta = ParseTeamAccess(*call.snap, **ta_obj);
    if (!ta) co_return ta.error();
    access = std::move(*ta);
  }
  auto choice = ParseCredentialChoice(d, *call.snap, *body, *provider, false);
  if (!choice) co_return choice.error();
  bool credential_change = choice->named || choice->inline_auth;
  auto region_opt = OptString(*body, "region");
  if (!region_opt) co_return region_opt.error();
  std::string region = region_opt->value_or(entry->record.region);
  if (auto ok = CheckRegion(*provider, region, "region"); !ok) co_return ok.error();

  // A new credential or region must still offer the model; its lifecycle is re-read there.
  std::optional<std::string> lifecycle;
  std::optional<std::vector<std::string>> input_modalities;
  if (credential_change || region != entry->record.region) {
    ResolvedCredential cred =
        credential_change ? ResolveChoice(*choice, provider->id, region)
                          : ResolveStored(*entry->credential);
    auto catalog = co_await FetchCatalog(d, std::move(cred), region);
    if (!catalog) co_return catalog.error();
    const CatalogEntry* found = FindInCatalog(*catalog, entry->record.provider_model_id);
    if (!found) {
      co_return Error(ErrorCode::kUnprocessable, "model_not_in_catalog",
                      "Model '" + entry->record.provider_model_id + "' is not in the " +
                          provider->name + " catalog for region " + region + ".",
                      region_opt->has_value() ? "region" : "credential");
    }
    lifecycle = found->lifecycle;
    input_modalities = found->input_modalities;
  }

  co_return co_await server::RunBlocking(d.store_pool, [&]() -> Result<Reply> {
    MG_TRY(store::Model m, d.store.GetModel(id));
    SystemTime now = d.clock.Now();
    json::array changed;
    if (*name) {
      m.name = **name;
      changed.emplace_back("name");
    }
    if (access) {
      m.all_teams = access->all_teams;
      m.team_ids = access->team_ids;
      changed.emplace_back("team_access");
    }
    if (region != m.region) {
      m.region = region;
      changed.emplace_back("region");
    }
    if (lifecycle) m.lifecycle = *lifecycle;
    if (input_modalities) m.input_modalities = *input_modalities;
    std::optional<store::Credential> new_inline;
    std::optional<std::string> drop_credential;
    const state::CredentialEntry* old = call.snap->FindCredential(m.credential_id);
    bool old_inline = old && old->record.is_inline;
    if (choice->named) {
      if (old_inline) drop_credential = m.credential_id;
      m.credential_id = choice->named->record.id;
      changed.emplace_back("credential");
    } else if (choice->inline_auth) {
      new_inline = NewInlineCredential(d, *choice->inline_auth, m.provider, m.region, now);
      if (old_inline) drop_credential = m.credential_id;
      m.credential_id = new_inline->id;
      changed.emplace_back("auth");
    } else if (old_inline && region != old->record.region) {
      // Keep an inline credential's region in line with its only model.
      store::Credential c = old->record;
      c.region = region;
      c.updated_at = now;
      MG_TRY_VOID(d.store.UpdateCredential(
          c, MakeAudit(call, now, "credential.update", c.id, json::object{{"inline", true}})));
    }
    m.updated_at = now;
    json::object details = AuditDetails(m);
    details["changed"] = std::move(changed);
    MG_TRY_VOID(d.store.UpdateModel(m, new_inline, drop_credential,
                                    MakeAudit(call, now, "model.update", m.id, details)));
    MG_TRY(auto snap, Publish(d));
    if ((credential_change || region_opt->has_value()) && d.on_models_changed) {
      d.on_models_changed({m.id});
    }
    return JsonReply(200, RenderModel(d, *snap, m));
  });
}

}  // namespace

void RegisterModelRoutes(server::Router& r, Deps& d) {
  r.Add("POST", "/admin/v1/models",
        Async(d, Need::kManageProviders, [&d](Call call) { return AddModels(d, std::move(call)); }));
  r.Add("GET", "/admin/v1/models", Sync(d, Need::kManageProviders, [&d](Call& call) -> Result<Reply> {
          auto snap = d.publisher.Current();
          json::array arr;
          for (const state::ModelEntry* m : snap->models()) arr.emplace_back(RenderModel(d, *snap, m->record));
          return JsonReply(200, json::object{{"models", std::move(arr)}});
        }));
  r.Add("GET", "/admin/v1/models/{id}",
        Sync(d, Need::kManageProviders, [&d](Call& call) -> Result<Reply> {
          auto snap = d.publisher.Current();
          const state::ModelEntry* m = snap->FindModel(call.req.path_params.at("id"));
          if (!m) return NotFound("model_not_found", "No model '" + call.req.path_params.at("id") + "'.");
          return JsonReply(200, RenderModel(d, *snap, m->record));
        }));
  r.Add("PATCH", "/admin/v1/models/{id}",
        Async(d, Need::kManageProviders, [&d](Call call) { return PatchModel(d, std::move(call)); }));
  r.Add("DELETE", "/admin/v1/models/{id}",
        Sync(d, Need::kManageProviders, [&d](Call& call) -> Result<Reply> {
          const state::ModelEntry* m = call.snap->FindModel(call.req.path_params.at("id"));
          if (!m) return NotFound("model_not_found", "No model '" + call.req.path_params.at("id") + "'.");
          MG_TRY_VOID(d.store.DeleteModel(
              m->record.id, MakeAudit(call, d.clock.Now(), "model.delete", m->record.id,
                                      AuditDetails(m->record))));
          MG_TRY(auto snap, Publish(d));
          return NoContent();
        }));
}

}  // namespace mg::api::admin::detail
