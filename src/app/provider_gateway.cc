#include "app/provider_gateway.h"

#include "state/snapshot.h"

namespace mg::app {

namespace asio = boost::asio;

namespace {

providers::ProviderCredential ToProvider(const api::admin::ResolvedCredential& c) {
  return state::ToProviderCredential(c.record, c.secret_access_key, c.session_token);
}

}  // namespace

asio::awaitable<Result<std::vector<api::admin::CatalogEntry>>> ProviderGateway::ListCatalog(
    api::admin::ResolvedCredential credential, std::string region) {
  auto models = co_await provider_.ListModels(ToProvider(credential), region);
  if (!models) co_return models.error();
  std::vector<api::admin::CatalogEntry> out;
  out.reserve(models->size());
  for (providers::CatalogModel& m : *models) {
    api::admin::CatalogEntry e;
    e.provider_model_id = std::move(m.provider_model_id);
    e.name = std::move(m.name);
    e.vendor = std::move(m.vendor);
    e.lifecycle = std::move(m.lifecycle);
    e.input_modalities = std::move(m.input_modalities);
    e.output_modalities = std::move(m.output_modalities);
    e.streaming = m.streaming;
    e.chat_capable = m.chat_capable;
    out.push_back(std::move(e));
  }
  co_return out;
}

asio::awaitable<api::admin::CredentialTestResult> ProviderGateway::TestCredential(
    api::admin::ResolvedCredential credential, std::string region) {
  auto visible = co_await provider_.TestCredential(ToProvider(credential), region);
  api::admin::CredentialTestResult r;
  if (visible) {
    r.ok = true;
    r.models_visible = static_cast<int64_t>(*visible);
  } else {
    const Error& e = visible.error();
    r.cause = e.health_cause.empty() ? "provider_unavailable" : e.health_cause;
    r.message = e.health_message.empty() ? e.message : e.health_message;
  }
  co_return r;
}

}  // namespace mg::app
