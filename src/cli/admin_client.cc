#include "cli/admin_client.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>

#include "net/endpoint.h"
#include "net/http_client.h"

namespace mg::cli {
namespace {

namespace asio = boost::asio;

net::HttpClient::Options ClientOptions(const AdminClientOptions& o) {
  net::HttpClient::Options opts;
  opts.ca_bundle_path = o.ca_bundle;
  opts.user_agent = "modelgate-cli/0.1";
  opts.max_idle_per_host = 1;
  return opts;
}

}  // namespace

struct AdminClient::State {
  State(AdminClientOptions o, net::Endpoint e, std::string base)
      : options(std::move(o)),
        endpoint(std::move(e)),
        base_path(std::move(base)),
        origin(net::ToString(endpoint)),
        http(io.get_executor(), ClientOptions(options)) {}

  AdminClientOptions options;
  net::Endpoint endpoint;
  std::string base_path;
  std::string origin;
  // Declared before the client: the client's sockets live on this context, which must outlive
  // it (http_client.h).
  asio::io_context io;
  net::HttpClient http;
};

AdminClient::AdminClient(std::unique_ptr<State> state) : state_(std::move(state)) {}
AdminClient::~AdminClient() = default;

Result<std::unique_ptr<AdminClient>> AdminClient::Create(AdminClientOptions options) {
  std::string base_path;
  MG_TRY(net::Endpoint endpoint, net::ParseEndpointUrl(options.url, &base_path));
  return std::unique_ptr<AdminClient>(new AdminClient(
      std::make_unique<State>(std::move(options), std::move(endpoint), std::move(base_path))));
}

const std::string& AdminClient::origin() const { return state_->origin; }

Result<ApiResponse> AdminClient::Send(std::string_view method, std::string_view target,
                                      std::string body) {
  net::ClientRequest req;
  req.method = std::string(method);
  req.endpoint = state_->endpoint;
  req.target = state_->base_path + std::string(target);
  req.headers.emplace_back("Authorization",
                           "Bearer " + std::string(state_->options.api_key.Reveal()));
  req.headers.emplace_back("Accept", "application/json");
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  req.body = std::move(body);

  net::Timeouts timeouts;
  timeouts.total = state_->options.timeout;
  timeouts.connect = std::min(timeouts.connect, timeouts.total);
  timeouts.first_byte = timeouts.total;
  timeouts.idle = timeouts.total;

  // The CLI is a client process with a private io_context: this one coroutine is spawned and
  // the context run until it completes, so nothing outlives the call.
  std::optional<Result<net::ClientResponse>> out;
  asio::co_spawn(
      state_->io,
      [&]() -> asio::awaitable<void> {
        out.emplace(co_await state_->http.Send(std::move(req), timeouts));
      },
      [&](std::exception_ptr e) {
        if (e && !out) out.emplace(Internal("the HTTP client failed unexpectedly"));
      });
  state_->io.restart();
  state_->io.run();
  if (!out) return Internal("the request did not complete");
  if (!*out) return std::move(*out).error();
  ApiResponse resp;
  resp.status = (*out)->status;
  resp.body = std::move((*out)->body);
  return resp;
}

}  // namespace mg::cli
