// @file web.h
// @brief The web console: its static files at GET / and GET /<file> (assets.h), and the
// browser session endpoints of the admin API:
//   POST   /admin/v1/session  {"api_key": "..."} -> 200 with the `me` body, and
//          Set-Cookie: mg_session=<random token>; HttpOnly; SameSite=Strict; Path=/
//          (+ Secure when the request came over TLS, i.e. X-Forwarded-Proto: https)
//   DELETE /admin/v1/session  -> 204, forgets the session and expires the cookie.
// The session token is not the API key (auth/session.h keeps its hash, bound to the key id).
// Both endpoints are for browsers and follow the cookie CSRF rule (auth::CheckCsrf): they need
// `X-Modelgate-Csrf: 1` and a same-origin Origin when one is sent.
//
// Thread-safety: RegisterRoutes is called once at start-up; the handlers may then run
// concurrently on any I/O thread. Deps and what it refers to must outlive the Router.
#pragma once

#include "auth/session.h"
#include "core/clock.h"
#include "server/http.h"
#include "state/publisher.h"

namespace mg::api::web {

struct Deps {
  state::SnapshotPublisher& publisher;
  const Clock& clock;
  auth::SessionStore& sessions;
};

// Registers GET / (index.html), GET /<path> for every embedded file, and the session endpoints.
void RegisterRoutes(server::Router& router, Deps& deps);

}  // namespace mg::api::web
