-- 0001_init: the initial schema.
-- Conventions: times are INTEGER microseconds since the Unix epoch (UTC); enums are stored by
-- their snake_case names (store/enum_names.h); secrets exist here only as vault envelopes
-- (data key id + AES-256-GCM ciphertext), never in plaintext.

CREATE TABLE teams (
  id          TEXT PRIMARY KEY NOT NULL,
  name        TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
  id          TEXT PRIMARY KEY NOT NULL,
  email       TEXT NOT NULL,
  name        TEXT NOT NULL,
  role        TEXT NOT NULL
              CHECK (role IN ('org_admin', 'it_admin', 'full_access', 'builder', 'member')),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;
-- The bootstrap admin has no email; every other email is unique.
CREATE UNIQUE INDEX users_email_unique ON users (email) WHERE email <> '';

CREATE TABLE user_teams (
  user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  team_id  TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, team_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX user_teams_team ON user_teams (team_id);

CREATE TABLE api_keys (
  id            TEXT PRIMARY KEY NOT NULL,
  user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  prefix        TEXT NOT NULL,
  hash          TEXT NOT NULL UNIQUE,
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER,
  revoked_at    INTEGER
) STRICT;
CREATE INDEX api_keys_user ON api_keys (user_id, created_at);

-- Vault data keys, each wrapped (AES-256-GCM) by the master key named by master_key_id.
CREATE TABLE data_keys (
  id             TEXT PRIMARY KEY NOT NULL,
  master_key_id  TEXT NOT NULL,
  wrapped        BLOB NOT NULL,
  created_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE credentials (
  id                          TEXT PRIMARY KEY NOT NULL,
  name                        TEXT NOT NULL,
  is_inline                   INTEGER NOT NULL CHECK (is_inline IN (0, 1)),
  provider                    TEXT NOT NULL,
  region                      TEXT NOT NULL,
  auth_type                   TEXT NOT NULL CHECK (auth_type IN ('access_keys', 'role_arn')),
  access_key_id               TEXT NOT NULL,
  secret_access_key_data_key  TEXT,
  secret_access_key           BLOB,
  session_token_data_key      TEXT,
  session_token               BLOB,
  role_arn                    TEXT NOT NULL,
  session_name                TEXT NOT NULL,
  external_id                 TEXT NOT NULL,
  created_at                  INTEGER NOT NULL,
  updated_at                  INTEGER NOT NULL,
  secret_rotated_at           INTEGER NOT NULL,
  CHECK ((secret_access_key IS NULL) = (secret_access_key_data_key IS NULL)),
  CHECK ((session_token IS NULL) = (session_token_data_key IS NULL))
) STRICT;
-- Named credentials have unique names; inline ones (one model each) have none.
CREATE UNIQUE INDEX credentials_name_unique ON credentials (name) WHERE is_inline = 0;

CREATE TABLE models (
  id                 TEXT PRIMARY KEY NOT NULL,
  name               TEXT NOT NULL,
  provider           TEXT NOT NULL,
  provider_model_id  TEXT NOT NULL,
  region             TEXT NOT NULL,
  credential_id      TEXT NOT NULL REFERENCES credentials (id) ON DELETE RESTRICT,
  all_teams          INTEGER NOT NULL CHECK (all_teams IN (0, 1)),
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX models_credential ON models (credential_id);

CREATE TABLE model_teams (
  model_id  TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  team_id   TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  PRIMARY KEY (model_id, team_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX model_teams_team ON model_teams (team_id);

CREATE TABLE health_states (
  model_id              TEXT PRIMARY KEY NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  status                TEXT NOT NULL CHECK (status IN ('unknown', 'healthy', 'unhealthy')),
  in_pool               INTEGER NOT NULL CHECK (in_pool IN (0, 1)),
  last_checked_at       INTEGER,
  next_check_at         INTEGER,
  cooldown_until        INTEGER,
  cause                 TEXT NOT NULL,
  message               TEXT NOT NULL,
  consecutive_failures  INTEGER NOT NULL
) STRICT;

CREATE TABLE health_checks (
  id          INTEGER PRIMARY KEY,
  model_id    TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  at          INTEGER NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('unknown', 'healthy', 'unhealthy')),
  latency_ms  INTEGER NOT NULL,
  cause       TEXT NOT NULL,
  message     TEXT NOT NULL
) STRICT;
CREATE INDEX health_checks_model_at ON health_checks (model_id, at);

-- AUTOINCREMENT: a seq is never reused, even after the newest rows are deleted.
CREATE TABLE audit (
  seq      INTEGER PRIMARY KEY AUTOINCREMENT,
  at       INTEGER NOT NULL,
  actor    TEXT NOT NULL,
  action   TEXT NOT NULL,
  target   TEXT NOT NULL,
  details  TEXT NOT NULL
) STRICT;

-- No foreign keys: usage outlives the users, teams and models it mentions.
CREATE TABLE usage (
  id             INTEGER PRIMARY KEY,
  at             INTEGER NOT NULL,
  request_id     TEXT NOT NULL,
  user_id        TEXT NOT NULL,
  team_id        TEXT NOT NULL,
  model_id       TEXT NOT NULL,
  input_tokens   INTEGER NOT NULL,
  output_tokens  INTEGER NOT NULL,
  latency_ms     INTEGER NOT NULL,
  outcome        TEXT NOT NULL
) STRICT;
CREATE INDEX usage_at ON usage (at);
