// The configuration snapshot's hot-path lookups (state/snapshot.h) with the benchmark harness's
// large configuration: 10,000 models, 1,000 teams, 2,000 users with one API key each. Measures
// what every data-plane request does before it reaches a provider: API key -> principal
// (auth::Authenticate: Bearer parsing, SHA-256 of the key, hash lookup), model lookup, the team
// access check, and - for GET /v1/models - the full filtered scan. Also the snapshot build itself
// (what an admin change costs before the store read).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "auth/auth.h"
#include "state/snapshot.h"

namespace mg::state {
namespace {

constexpr int kModels = 10000;
constexpr int kTeams = 1000;
constexpr int kUsers = 2000;

std::string Num(int i, int width) {
  std::string s = std::to_string(i);
  return std::string(static_cast<size_t>(std::max(0, width - static_cast<int>(s.size()))), '0') + s;
}
std::string TeamId(int i) { return "team_" + Num(i, 6); }
std::string ApiKeyFor(int user) { return "mg_benchmarkkey" + Num(user, 32); }

store::ConfigData LargeConfig() {
  store::ConfigData d;
  for (int i = 0; i < kTeams; ++i) d.teams.push_back({TeamId(i), "team-" + Num(i, 4), {}, {}});
  for (int u = 0; u < kUsers; ++u) {
    store::User user;
    user.id = "user_" + Num(u, 6);
    user.name = "user " + std::to_string(u);
    user.role = store::Role::kBuilder;
    // Five teams per user, spread over the range.
    for (int k = 0; k < 5; ++k) user.team_ids.push_back(TeamId((u * 7 + k * 211) % kTeams));
    std::sort(user.team_ids.begin(), user.team_ids.end());
    d.users.push_back(user);
    store::ApiKey key;
    key.id = "key_" + Num(u, 6);
    key.user_id = user.id;
    key.hash = auth::HashApiKey(ApiKeyFor(u));
    d.api_keys.push_back(key);
  }
  store::Credential cred;
  cred.id = "cred_bench";
  cred.name = "bench";
  cred.provider = "bedrock";
  cred.region = "us-east-1";
  cred.access_key_id = "AKIDBENCH";
  d.credentials.push_back(cred);
  for (int i = 0; i < kModels; ++i) {
    store::Model m;
    m.id = "model-" + Num(i, 5);
    m.name = "Model " + std::to_string(i);
    m.provider = "bedrock";
    m.provider_model_id = "amazon.nova-lite-v1:0";
    m.region = "us-east-1";
    m.credential_id = cred.id;
    // One model in ten is shared with every team, the others with one team each.
    m.all_teams = i % 10 == 0;
    if (!m.all_teams) m.team_ids.push_back(TeamId(i % kTeams));
    d.models.push_back(m);
  }
  return d;
}

Result<Secret> NoSecrets(const store::SealedSecret&, std::string_view) { return Secret(); }

const Snapshot& Large() {
  static const std::shared_ptr<const Snapshot> snap = [] {
    auto built = Snapshot::Build(LargeConfig(), NoSecrets, nullptr, 1);
    if (!built) throw std::runtime_error(built.error().message);
    return *built;
  }();
  return *snap;
}

void BM_Snapshot_Build(benchmark::State& state) {
  const store::ConfigData data = LargeConfig();
  for (auto _ : state) {
    auto built = Snapshot::Build(data, NoSecrets, nullptr, 1);
    benchmark::DoNotOptimize(built);
  }
  state.SetLabel("10000 models, 1000 teams, 2000 keys");
}
BENCHMARK(BM_Snapshot_Build)->Unit(benchmark::kMillisecond);

// Authorization header -> KeyEntry (Bearer parsing, SHA-256, hash lookup, last-used store).
void BM_Snapshot_AuthenticateKey(benchmark::State& state) {
  const Snapshot& snap = Large();
  const std::string header = "Bearer " + ApiKeyFor(1234);
  const SystemTime now{};
  for (auto _ : state) {
    auto key = auth::Authenticate(snap, std::string_view(header), now);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_Snapshot_AuthenticateKey);

void BM_Snapshot_FindKeyByHash(benchmark::State& state) {
  const Snapshot& snap = Large();
  const std::string hash = auth::HashApiKey(ApiKeyFor(1234));
  for (auto _ : state) benchmark::DoNotOptimize(snap.FindKeyByHash(hash));
}
BENCHMARK(BM_Snapshot_FindKeyByHash);

void BM_Snapshot_FindModel(benchmark::State& state) {
  const Snapshot& snap = Large();
  const std::string id = "model-04321";
  for (auto _ : state) benchmark::DoNotOptimize(snap.FindModel(id));
}
BENCHMARK(BM_Snapshot_FindModel);

void BM_Snapshot_TeamAccessAllows(benchmark::State& state) {
  const Snapshot& snap = Large();
  const KeyEntry* key = snap.FindKeyByHash(auth::HashApiKey(ApiKeyFor(1234)));
  const ModelEntry* model = snap.FindModel("model-04321");
  for (auto _ : state) {
    benchmark::DoNotOptimize(Snapshot::TeamAccessAllows(key->principal, model->record));
  }
}
BENCHMARK(BM_Snapshot_TeamAccessAllows);

// What GET /v1/models does before rendering: every model, filtered by team access.
void BM_Snapshot_ListVisibleModels(benchmark::State& state) {
  const Snapshot& snap = Large();
  const KeyEntry* key = snap.FindKeyByHash(auth::HashApiKey(ApiKeyFor(1234)));
  size_t visible = 0;
  for (auto _ : state) {
    visible = 0;
    for (const ModelEntry* m : snap.models()) {
      if (Snapshot::TeamAccessAllows(key->principal, m->record)) ++visible;
    }
    benchmark::DoNotOptimize(visible);
  }
  state.SetItemsProcessed(state.iterations() * kModels);
  state.SetLabel(std::to_string(visible) + " of 10000 visible");
}
BENCHMARK(BM_Snapshot_ListVisibleModels);

}  // namespace
}  // namespace mg::state
