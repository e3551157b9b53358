// @file provider_gateway.h
// @brief The admin API's view of a provider (catalog, credential test) over providers::Provider.
// Lives in app/ because it joins api/admin to a concrete provider.
// Thread-safety: thread-safe (the provider is).
#pragma once

#include "api/admin/admin_api.h"
#include "providers/provider.h"

namespace mg::app {

class ProviderGateway final : public api::admin::ProviderGateway {
 public:
  explicit ProviderGateway(providers::Provider& provider) : provider_(provider) {}

  boost::asio::awaitable<Result<std::vector<api::admin::CatalogEntry>>> ListCatalog(
      api::admin::ResolvedCredential credential, std::string region) override;
  boost::asio::awaitable<api::admin::CredentialTestResult> TestCredential(
      api::admin::ResolvedCredential credential, std::string region) override;

 private:
  providers::Provider& provider_;
};

}  // namespace mg::app
