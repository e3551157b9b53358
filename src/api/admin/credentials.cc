// Providers, catalogs and named credentials (admin-api "Providers", "Credentials").
#include <algorithm>

#include "api/admin/admin_common.h"
#include "core/ids.h"
#include "core/time.h"

namespace mg::api::admin::detail {
namespace {

bool AllOf(std::string_view s, const char* extra) {
  for (char c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || std::strchr(extra, c) != nullptr;
    if (!ok || c == '\0') return false;
  }
  return true;
}

std::string MaskKeyId(std::string_view id) {
  if (id.size() <= 8) return std::string(id.size(), '*');
  return std::string(id.substr(0, 4)) + std::string(id.size() - 8, '*') +
         std::string(id.substr(id.size() - 4));
}


json::object RenderCredential(const Deps& d, const state::Snapshot& snap,
                              const store::Credential& c) {
  json::object auth;
  auth["type"] = AuthTypeText(c.auth_type);
  if (c.auth_type == store::AuthType::kAccessKeys) {
    auth["access_key_id"] = MaskKeyId(c.access_key_id);
    auth["secret_set"] = c.secret_access_key.has_value();
    auth["session_token_set"] = c.session_token.has_value();
  } else {
    auth["role_arn"] = c.role_arn;
    auth["session_name"] = c.session_name.empty() ? json::value(nullptr) : json::value(c.session_name);
    auth["external_id_set"] = !c.external_id.empty();
  }
  json::array models;
  if (const state::CredentialEntry* e = snap.FindCredential(c.id)) {
    for (const auto& m : e->model_ids) models.emplace_back(m);
  }
  json::object o;
  o["id"] = c.id;
  o["name"] = c.name;
  o["provider"] = c.provider;
  o["region"] = c.region;
  o["auth"] = std::move(auth);
  o["models"] = std::move(models);
  o["created_at"] = TimeValue(c.created_at);
  o["updated_at"] = TimeValue(c.updated_at);
  o["secret_rotated_at"] = TimeValue(c.secret_rotated_at);
  bool has_secret = c.auth_type == store::AuthType::kAccessKeys;
  auto age = d.clock.Now() - c.secret_rotated_at;
  o["rotation_due"] =
      has_secret && age > std::chrono::hours(24) * d.config.credential_rotation_days;
  return o;
}

json::object AuditDetails(const store::Credential& c) {
  json::object o;
  o["name"] = c.name;
  o["provider"] = c.provider;
  o["region"] = c.region;
  o["auth_type"] = AuthTypeText(c.auth_type);
  return o;
}


Result<const state::CredentialEntry*> FindCredentialOr404(const state::Snapshot& snap,
                                                          std::string_view id_or_name) {
  const state::CredentialEntry* c = snap.FindNamedCredential(id_or_name);
  if (!c) {
    return NotFound("credential_not_found", "No credential '" + std::string(id_or_name) + "'.");
  }
  return c;
}

Result<Reply> CreateCredential(Deps& d, Call& call) {
  MG_TRY(json::object body, ParseObject(call.req.body));
  MG_TRY_VOID(OnlyKeys(body, {"name", "provider", "region", "auth"}));
  MG_TRY(std::string name, ReqString(body, "name"));
  MG_TRY_VOID(CheckName(name, "name"));
  MG_TRY(std::string provider_id, ReqString(body, "provider"));
  MG_TRY(const ProviderInfo* provider,
         FindAvailableProvider(d, provider_id, "provider", /*for_credentials=*/true));
  MG_TRY(std::string region, ReqString(body, "region"));
  MG_TRY_VOID(CheckRegion(*provider, region, "region"));
  MG_TRY(const json::object* auth_obj, OptObject(body, "auth"));
  if (!auth_obj) return InvalidArgument("'auth' is required.", "auth");
  MG_TRY(ParsedAuth auth, ParseAuth(*auth_obj, "auth", *provider));

  SystemTime now = d.clock.Now();
  store::Credential c;
  c.id = NewId("cred", now);
  c.name = name;
  c.provider = provider->id;
  c.region = region;
  c.created_at = c.updated_at = c.secret_rotated_at = now;
  ApplyAuth(d, auth, c);
  MG_TRY_VOID(d.store.CreateCredential(c, MakeAudit(call, now, "credential.create", c.id,
                                                    AuditDetails(c))));
  MG_TRY(auto snap, Publish(d));
  return JsonReply(201, RenderCredential(d, *snap, c));
}

Result<Reply> PatchCredential(Deps& d, Call& call) {
  const std::string& id = call.req.path_params.at("id");
  MG_TRY(const state::CredentialEntry* entry, FindCredentialOr404(*call.snap, id));
  MG_TRY(json::object body, ParseObject(call.req.body));
  MG_TRY_VOID(OnlyKeys(body, {"name", "region", "auth"}));
  // Re-read the row: the snapshot may be a moment old, the store is the truth for updates.
  MG_TRY(store::Credential c, d.store.GetCredential(entry->record.id));
  const ProviderInfo* provider = nullptr;
  for (const auto& p : d.providers) {
    if (p.id == c.provider) provider = &p;
  }
  if (!provider) return Internal("credential has unknown provider '" + c.provider + "'");

  json::array changed;
  MG_TRY(auto name, OptString(body, "name"));
  if (name) {
    MG_TRY_VOID(CheckName(*name, "name"));
    c.name = *name;
    changed.emplace_back("name");
  }
  MG_TRY(auto region, OptString(body, "region"));
  if (region) {
    MG_TRY_VOID(CheckRegion(*provider, *region, "region"));
    c.region = *region;
    changed.emplace_back("region");
  }
  MG_TRY(const json::object* auth_obj, OptObject(body, "auth"));
  bool auth_changed = auth_obj != nullptr;
  SystemTime now = d.clock.Now();
  if (auth_obj) {
    MG_TRY(ParsedAuth auth, ParseAuth(*auth_obj, "auth", *provider));
    ApplyAuth(d, auth, c);
    c.secret_rotated_at = now;
    changed.emplace_back("auth");
  }
  c.updated_at = now;
  json::object details = AuditDetails(c);
  details["changed"] = std::move(changed);
  MG_TRY_VOID(d.store.UpdateCredential(c, MakeAudit(call, now, auth_changed
                                                                   ? "credential.rotate"
                                                                   : "credential.update",
                                                    c.id, std::move(details))));
  MG_TRY(auto snap, Publish(d));
  if ((auth_changed || region) && d.on_credential_changed) d.on_credential_changed(c.id);
  return JsonReply(200, RenderCredential(d, *snap, c));
}

Result<Reply> DeleteCredential(Deps& d, Call& call) {
  const std::string& id = call.req.path_params.at("id");
  MG_TRY(const state::CredentialEntry* entry, FindCredentialOr404(*call.snap, id));
  MG_TRY_VOID(d.store.DeleteCredential(
      entry->record.id,
      MakeAudit(call, d.clock.Now(), "credential.delete", entry->record.id,
                AuditDetails(entry->record))));
  MG_TRY(auto snap, Publish(d));
  return NoContent();
}

boost::asio::awaitable<Result<Reply>> RunTest(Deps& d, ResolvedCredential cred,
                                              std::string region) {
  ProviderGateway* gw = d.gateway ? d.gateway(cred.record.provider) : nullptr;
  if (!gw) {
    co_return InvalidArgument("Provider '" + cred.record.provider + "' is not available yet.",
                              "provider", "provider_not_available");
  }
  CredentialTestResult t = co_await gw->TestCredential(std::move(cred), region);
  json::object o;
  o["ok"] = t.ok;
  if (t.ok) {
    o["models_visible"] = t.models_visible;
  } else {
    o["cause"] = t.cause;
    o["message"] = t.message;
  }
  co_return JsonReply(200, o);
}

boost::asio::awaitable<Result<Reply>> RunCatalog(Deps& d, const state::Snapshot& snap,
                                                 ResolvedCredential cred, std::string region) {
  ProviderGateway* gw = d.gateway ? d.gateway(cred.record.provider) : nullptr;
  if (!gw) {
    co_return InvalidArgument("Provider '" + cred.record.provider + "' is not available yet.",
                              "provider", "provider_not_available");
  }
  std::string provider = cred.record.provider;
  auto models = co_await gw->ListCatalog(std::move(cred), region);
  if (!models) co_return models.error();
  json::array arr;
  for (const CatalogEntry& m : *models) {
    bool added = std::any_of(snap.models().begin(), snap.models().end(), [&](const auto* e) {
      return e->record.provider == provider && e->record.provider_model_id == m.provider_model_id &&
             e->record.region == region;
    });
    json::object o;
    o["provider_model_id"] = m.provider_model_id;
    o["name"] = m.name;
    o["vendor"] = m.vendor;
    json::array in, out;
    for (const auto& x : m.input_modalities) in.emplace_back(x);
    for (const auto& x : m.output_modalities) out.emplace_back(x);
    o["input_modalities"] = std::move(in);
    o["output_modalities"] = std::move(out);
    o["streaming"] = m.streaming;
    o["lifecycle"] = m.lifecycle;
    o["chat_capable"] = m.chat_capable;
    o["added"] = added;
    arr.emplace_back(std::move(o));
  }
  json::object body;
  body["region"] = region;
  body["models"] = std::move(arr);
  co_return JsonReply(200, body);
}

}  // namespace

Result<const ProviderInfo*> FindAvailableProvider(const Deps& d, std::string_view id,
                                                  std::string_view param, bool for_credentials) {
  for (const auto& p : d.providers) {
    if (p.id != id) continue;
    if (!p.available && !(for_credentials && p.accepts_credentials)) {
      return InvalidArgument("Provider '" + p.name + "' is coming soon and cannot be used yet.",
                             std::string(param), "provider_not_available");
    }
    return &p;
  }
  return InvalidArgument("Unknown provider '" + std::string(id) + "'.", std::string(param));
}

Result<void> CheckRegion(const ProviderInfo& p, std::string_view region, std::string_view param) {
  if (std::find(p.regions.begin(), p.regions.end(), region) == p.regions.end()) {
    std::string list;
    for (const auto& r : p.regions) list += (list.empty() ? "" : ", ") + r;
    return InvalidArgument("Region '" + std::string(region) + "' is not supported by " + p.name +
                               " (supported: " + list + ").",
                           std::string(param), "region_not_supported");
  }
  return {};
}

Result<ParsedAuth> ParseAuth(const json::object& o, std::string_view path,
                             const ProviderInfo& provider) {
  std::string prefix(path);
  MG_TRY(std::string type, ReqString(o, "type", prefix));
  if (std::find(provider.auth_types.begin(), provider.auth_types.end(), type) ==
      provider.auth_types.end()) {
    return InvalidArgument("'" + prefix + ".type' must be one of the provider's auth types "
                               "(access_keys or role_arn).",
                           prefix + ".type");
  }
  ParsedAuth a;
  if (type == "access_keys") {
    MG_TRY_VOID(OnlyKeys(o, {"type", "access_key_id", "secret_access_key", "session_token"},
                         prefix));
    a.type = store::AuthType::kAccessKeys;
    MG_TRY(a.access_key_id, ReqString(o, "access_key_id", prefix));
    if (a.access_key_id.size() < 16 || a.access_key_id.size() > 128 ||
        !AllOf(a.access_key_id, "")) {
      return InvalidArgument("'" + prefix + ".access_key_id' must be 16-128 letters and digits "
                             "(e.g. AKIA...).",
                             prefix + ".access_key_id");
    }
    MG_TRY(std::string secret, ReqString(o, "secret_access_key", prefix));
    if (secret.empty() || secret.size() > 1024) {
      return InvalidArgument("'" + prefix + ".secret_access_key' must be 1-1024 characters.",
                             prefix + ".secret_access_key");
    }
    a.secret_access_key = Secret(std::move(secret));
    MG_TRY(auto token, OptString(o, "session_token", prefix));
    if (token) {
      if (token->empty() || token->size() > 8192) {
        return InvalidArgument("'" + prefix + ".session_token' must be 1-8192 characters.",
                               prefix + ".session_token");
      }
      a.session_token = Secret(std::move(*token));
    }
  } else {
    MG_TRY_VOID(OnlyKeys(o, {"type", "role_arn", "session_name", "external_id"}, prefix));
    a.type = store::AuthType::kRoleArn;
    MG_TRY(a.role_arn, ReqString(o, "role_arn", prefix));
    // arn:<partition>:iam::<12-digit account>:role/<path/name>
    std::string_view arn = a.role_arn;
    bool ok = arn.size() <= 2048 && arn.rfind("arn:aws", 0) == 0;
    size_t p1 = arn.find(":iam::");
    ok = ok && p1 != std::string_view::npos && AllOf(arn.substr(4, p1 - 4), "-");
    if (ok) {
      std::string_view rest = arn.substr(p1 + 6);
      ok = rest.size() > 18 && AllOf(rest.substr(0, 12), "") &&
           std::all_of(rest.begin(), rest.begin() + 12, [](char c) { return std::isdigit(c); }) &&
           rest.substr(12, 6) == ":role/" && AllOf(rest.substr(18), "+=,.@_-/");
    }
    if (!ok) {
      return InvalidArgument("'" + prefix + ".role_arn' must look like "
                             "arn:aws:iam::123456789012:role/name.",
                             prefix + ".role_arn");
    }
    MG_TRY(auto session, OptString(o, "session_name", prefix));
    if (session) {
      if (session->size() < 2 || session->size() > 64 || !AllOf(*session, "_+=,.@-")) {
        return InvalidArgument("'" + prefix + ".session_name' must be 2-64 characters of "
                               "letters, digits and _+=,.@-.",
                               prefix + ".session_name");
      }
      a.session_name = *session;
    }
    MG_TRY(auto external, OptString(o, "external_id", prefix));
    if (external) {
      if (external->size() < 2 || external->size() > 1224 || !AllOf(*external, "_+=,.@:/-")) {
        return InvalidArgument("'" + prefix + ".external_id' must be 2-1224 characters of "
                               "letters, digits and _+=,.@:/-.",
                               prefix + ".external_id");
      }
      a.external_id = *external;
    }
  }
  return a;
}

void ApplyAuth(const Deps& d, const ParsedAuth& a, store::Credential& c) {
  c.auth_type = a.type;
  c.access_key_id.clear();
  c.secret_access_key.reset();
  c.session_token.reset();
  c.role_arn.clear();
  c.session_name.clear();
  c.external_id.clear();
  if (a.type == store::AuthType::kAccessKeys) {
    c.access_key_id = a.access_key_id;
    c.secret_access_key = d.seal(a.secret_access_key, state::SecretAad(c.id, "secret_access_key"));
    if (!a.session_token.empty()) {
      c.session_token = d.seal(a.session_token, state::SecretAad(c.id, "session_token"));
    }
  } else {
    c.role_arn = a.role_arn;
    c.session_name = a.session_name;
    c.external_id = a.external_id;
  }
}

ResolvedCredential ResolveInline(const ParsedAuth& a, std::string provider, std::string region) {
  ResolvedCredential r;
  r.record.id = "inline";
  r.record.name = "inline";
  r.record.is_inline = true;
  r.record.provider = std::move(provider);
  r.record.region = std::move(region);
  r.record.auth_type = a.type;
  r.record.access_key_id = a.access_key_id;
  r.record.role_arn = a.role_arn;
  r.record.session_name = a.session_name;
  r.record.external_id = a.external_id;
  r.secret_access_key = a.secret_access_key;
  r.session_token = a.session_token;
  return r;
}

ResolvedCredential ResolveStored(const state::CredentialEntry& c) {
  return ResolvedCredential{c.record, c.secret_access_key, c.session_token};
}

void RegisterProviderRoutes(server::Router& r, Deps& d) {
  r.Add("GET", "/admin/v1/providers", Sync(d, Need::kAnyUser, [&d](Call&) -> Result<Reply> {
          json::array arr;
          for (const ProviderInfo& p : d.providers) {
            json::object o;
            o["id"] = p.id;
            o["name"] = p.name;
            o["status"] = p.available ? "available" : "coming_soon";
            json::array types;
            for (const auto& t : p.auth_types) types.emplace_back(t);
            o["auth_types"] = std::move(types);
            if (!p.regions.empty()) {
              json::array regions;
              for (const auto& x : p.regions) regions.emplace_back(x);
              o["regions"] = std::move(regions);
            }
            arr.emplace_back(std::move(o));
          }
          return JsonReply(200, json::object{{"providers", std::move(arr)}});
        }));

  r.Add("GET", "/admin/v1/providers/{provider}/catalog",
        Async(d, Need::kManageProviders, [&d](Call call) -> boost::asio::awaitable<Result<Reply>> {
          auto provider = FindAvailableProvider(d, call.req.path_params.at("provider"), "provider");
          if (!provider) co_return provider.error();
          auto cred_q = call.req.QueryParamChecked("credential");
          if (!cred_q) co_return cred_q.error();
          if (!*cred_q || (*cred_q)->empty()) {
            co_return InvalidArgument("Query parameter 'credential' (a credential id or name) is "
                                      "required; or POST inline auth to browse before saving.",
                                      "credential");
          }
          const state::CredentialEntry* c = call.snap->FindNamedCredential(**cred_q);
          if (!c) {
            co_return NotFound("credential_not_found", "No credential '" + **cred_q + "'.");
          }
          if (c->record.provider != (*provider)->id) {
            co_return InvalidArgument("Credential '" + c->record.name + "' is for provider '" +
                                          c->record.provider + "'.",
                                      "credential");
          }
          auto region_q = call.req.QueryParamChecked("region");
          if (!region_q) co_return region_q.error();
          std::string region = region_q->value_or(c->record.region);
          if (auto ok = CheckRegion(**provider, region, "region"); !ok) co_return ok.error();
          co_return co_await RunCatalog(d, *call.snap, ResolveStored(*c), region);
        }));

  r.Add("POST", "/admin/v1/providers/{provider}/catalog",
        Async(d, Need::kManageProviders, [&d](Call call) -> boost::asio::awaitable<Result<Reply>> {
          auto provider = FindAvailableProvider(d, call.req.path_params.at("provider"), "provider");
          if (!provider) co_return provider.error();
          auto body = ParseObject(call.req.body);
          if (!body) co_return body.error();
          if (auto ok = OnlyKeys(*body, {"region", "auth", "credential"}); !ok) co_return ok.error();
          auto region = ReqString(*body, "region");
          if (!region) co_return region.error();
          if (auto ok = CheckRegion(**provider, *region, "region"); !ok) co_return ok.error();
          auto auth_obj = OptObject(*body, "auth");
          if (!auth_obj) co_return auth_obj.error();
          auto cred_name = OptString(*body, "credential");
          if (!cred_name) co_return cred_name.error();
          if (*auth_obj) {
            auto auth = ParseAuth(**auth_obj, "auth", **provider);
            if (!auth) co_return auth.error();
            co_return co_await RunCatalog(d, *call.snap,
                                          ResolveInline(*auth, (*provider)->id, *region), *region);
          }
          if (*cred_name) {
            const state::CredentialEntry* c = call.snap->FindNamedCredential(**cred_name);
            if (!c) co_return NotFound("credential_not_found", "No credential '" + **cred_name + "'.");
            co_return co_await RunCatalog(d, *call.snap, ResolveStored(*c), *region);
          }
          co_return InvalidArgument("Give 'auth' (inline credentials) or 'credential'.", "auth");
        }));
}

void RegisterCredentialRoutes(server::Router& r, Deps& d) {
  r.Add("POST", "/admin/v1/credentials",
        Sync(d, Need::kManageProviders, [&d](Call& c) { return CreateCredential(d, c); }));
  r.Add("GET", "/admin/v1/credentials",
        Sync(d, Need::kManageProviders, [&d](Call& call) -> Result<Reply> {
          // The store is the truth for named credentials; the snapshot supplies model usage.
          MG_TRY(auto creds, d.store.ListCredentials());
          auto snap = d.publisher.Current();
          json::array arr;
          for (const auto& c : creds) arr.emplace_back(RenderCredential(d, *snap, c));
          return JsonReply(200, json::object{{"credentials", std::move(arr)}});
        }));
  r.Add("GET", "/admin/v1/credentials/{id}",
        Sync(d, Need::kManageProviders, [&d](Call& call) -> Result<Reply> {
          MG_TRY(const state::CredentialEntry* e,
                 FindCredentialOr404(*call.snap, call.req.path_params.at("id")));
          MG_TRY(store::Credential c, d.store.GetCredential(e->record.id));
          return JsonReply(200, RenderCredential(d, *d.publisher.Current(), c));
        }));
  r.Add("PATCH", "/admin/v1/credentials/{id}",
        Sync(d, Need::kManageProviders, [&d](Call& c) { return PatchCredential(d, c); }));
  r.Add("DELETE", "/admin/v1/credentials/{id}",
        Sync(d, Need::kManageProviders, [&d](Call& c) { return DeleteCredential(d, c); }));

  r.Add("POST", "/admin/v1/credentials/test",
        Async(d, Need::kManageProviders, [&d](Call call) -> boost::asio::awaitable<Result<Reply>> {
          auto body = ParseObject(call.req.body);
          if (!body) co_return body.error();
          if (auto ok = OnlyKeys(*body, {"provider", "region", "auth", "name"}); !ok) {
            co_return ok.error();
          }
          auto provider_id = ReqString(*body, "provider");
          if (!provider_id) co_return provider_id.error();
          auto provider = FindAvailableProvider(d, *provider_id, "provider");
          if (!provider) co_return provider.error();
          auto region = ReqString(*body, "region");
          if (!region) co_return region.error();
          if (auto ok = CheckRegion(**provider, *region, "region"); !ok) co_return ok.error();
          auto auth_obj = OptObject(*body, "auth");
          if (!auth_obj) co_return auth_obj.error();
          if (!*auth_obj) co_return InvalidArgument("'auth' is required.", "auth");
          auto auth = ParseAuth(**auth_obj, "auth", **provider);
          if (!auth) co_return auth.error();
          co_return co_await RunTest(d, ResolveInline(*auth, (*provider)->id, *region), *region);
        }));
  r.Add("POST", "/admin/v1/credentials/{id}/test",
        Async(d, Need::kManageProviders, [&d](Call call) -> boost::asio::awaitable<Result<Reply>> {
          auto c = FindCredentialOr404(*call.snap, call.req.path_params.at("id"));
          if (!c) co_return c.error();
          std::string region = (*c)->record.region;
          co_return co_await RunTest(d, ResolveStored(**c), region);
        }));
}

}  // namespace mg::api::admin::detail
