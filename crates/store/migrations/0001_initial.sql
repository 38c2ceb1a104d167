-- 0001: the device, the outbox and audit trail, conflicts, and one table per entity kind.
--
-- Entity tables follow domain::entity's specs: `id`, one column per field named as the field
-- (TEXT for text, dates, references and enums; INTEGER for integers and yes/no; TEXT holding
-- JSON for lists), and the bookkeeping columns `created_hlc`, `created_by` and `clocks` (JSON:
-- field -> clock of the edit that last set it, for fields edited after creation).
-- No foreign keys between entity tables: sync may deliver a record before, or without, the
-- records it names.

CREATE TABLE device (
    singleton       INTEGER PRIMARY KEY CHECK (singleton = 1),
    device_id       TEXT    NOT NULL,
    clock_millis    INTEGER NOT NULL DEFAULT 0,
    clock_counter   INTEGER NOT NULL DEFAULT 0,
    last_device_seq INTEGER NOT NULL DEFAULT 0,
    pull_cursor     INTEGER NOT NULL DEFAULT 0,
    session_json    TEXT,
    signing_key     TEXT
);

-- The outbox and the audit trail: every change recorded here, and updates pulled from others.
CREATE TABLE changes (
    seq            INTEGER PRIMARY KEY,
    change_id      TEXT    NOT NULL UNIQUE,
    device_id      TEXT    NOT NULL,
    device_seq     INTEGER NOT NULL,
    entity_kind    TEXT    NOT NULL,
    entity_id      TEXT    NOT NULL,
    op             TEXT    NOT NULL CHECK (op IN ('create', 'update')),
    fields         TEXT    NOT NULL,
    hlc            TEXT    NOT NULL,
    author_id      TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'pulled')),
    server_seq     INTEGER,
    rejection      TEXT,
    recorded_at    TEXT    NOT NULL
);
CREATE UNIQUE INDEX changes_by_device_seq ON changes (device_id, device_seq);
CREATE INDEX changes_pending ON changes (device_seq) WHERE status = 'pending';
CREATE INDEX changes_rejected ON changes (device_seq) WHERE status = 'rejected';
CREATE INDEX changes_by_entity ON changes (entity_id, hlc);

-- Overwritten values nobody has seen yet (status 'open'), and stamps known to be seen.
CREATE TABLE conflicts (
    entity_id   TEXT NOT NULL,
    field       TEXT NOT NULL,
    hlc         TEXT NOT NULL,
    entity_kind TEXT NOT NULL,
    value       TEXT,
    base        TEXT,
    author_id   TEXT,
    status      TEXT NOT NULL CHECK (status IN ('open', 'seen')),
    PRIMARY KEY (entity_id, field, hlc)
) WITHOUT ROWID;
CREATE INDEX conflicts_open ON conflicts (entity_id) WHERE status = 'open';

CREATE TABLE stations (
    id TEXT PRIMARY KEY,
    name TEXT,
    county TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT
);

CREATE TABLE service_points (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    name TEXT,
    liaison_name TEXT,
    liaison_phone TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT
);
CREATE INDEX service_points_by_station ON service_points (station_id);

CREATE TABLE villages (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    service_point_id TEXT,
    name TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT
);
CREATE INDEX villages_by_station ON villages (station_id);
CREATE INDEX villages_by_service_point ON villages (service_point_id);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT,
    display_name TEXT,
    role TEXT,
    post TEXT,
    station_id TEXT,
    service_point_id TEXT,
    supervised_station_ids TEXT,
    signing_keys TEXT,
    active INTEGER,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT
);
CREATE INDEX users_by_station ON users (station_id);

CREATE TABLE recipients (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    village_id TEXT,
    name TEXT,
    id_number TEXT,
    gender TEXT,
    birth_date TEXT,
    phone TEXT,
    categories TEXT,
    household_id TEXT,
    household_relation TEXT,
    address TEXT,
    notes TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT
);
CREATE INDEX recipients_by_station ON recipients (station_id);
CREATE INDEX recipients_by_household ON recipients (household_id);

CREATE TABLE households (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    village_id TEXT,
    name TEXT,
    address TEXT,
    notes TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT
);
CREATE INDEX households_by_station ON households (station_id);

CREATE TABLE visits (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    village_id TEXT,
    recipient_id TEXT,
    worker_id TEXT,
    visited_on TEXT,
    persons_seen TEXT,
    observations TEXT,
    needs_found TEXT,
    follow_up_needed INTEGER,
    amends TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT
);
CREATE INDEX visits_by_station ON visits (station_id);
CREATE INDEX visits_by_recipient ON visits (recipient_id, visited_on);

CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    recipient_id TEXT,
    worker_id TEXT,
    stage TEXT,
    stage_entered_on TEXT,
    opened_on TEXT,
    plan_strategy TEXT,
    closure_status TEXT,
    closure_summary TEXT,
    closure_requested_on TEXT,
    closure_comments TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT
);
CREATE INDEX cases_by_station ON cases (station_id);
CREATE INDEX cases_by_recipient ON cases (recipient_id);

CREATE TABLE screenings (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    case_id TEXT,
    source TEXT,
    found_on TEXT,
    notes TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT
);
CREATE INDEX screenings_by_station ON screenings (station_id);
CREATE INDEX screenings_by_case ON screenings (case_id);

CREATE TABLE assessments (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    case_id TEXT,
    assessed_on TEXT,
    living_conditions TEXT,
    health TEXT,
    psychology TEXT,
    family_support TEXT,
    social_support TEXT,
    risk_level TEXT,
    needs_summary TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT
);
CREATE INDEX assessments_by_station ON assessments (station_id);
CREATE INDEX assessments_by_case ON assessments (case_id);

CREATE TABLE goals (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    case_id TEXT,
    description TEXT,
    target_date TEXT,
    evaluation TEXT,
    evaluation_notes TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT
);
CREATE INDEX goals_by_station ON goals (station_id);
CREATE INDEX goals_by_case ON goals (case_id);

CREATE TABLE resource_links (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    case_id TEXT,
    resource_id TEXT,
    kind TEXT,
    description TEXT,
    status TEXT,
    linked_on TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT
);
CREATE INDEX resource_links_by_station ON resource_links (station_id);
CREATE INDEX resource_links_by_case ON resource_links (case_id);

CREATE TABLE interventions (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    case_id TEXT,
    worker_id TEXT,
    delivered_on TEXT,
    service_type TEXT,
    method TEXT,
    duration_minutes INTEGER,
    notes TEXT,
    amends TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT
);
CREATE INDEX interventions_by_station ON interventions (station_id);
CREATE INDEX interventions_by_case ON interventions (case_id);

CREATE TABLE follow_ups (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    case_id TEXT,
    worker_id TEXT,
    visited_on TEXT,
    notes TEXT,
    amends TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT
);
CREATE INDEX follow_ups_by_station ON follow_ups (station_id);
CREATE INDEX follow_ups_by_case ON follow_ups (case_id);

CREATE TABLE closure_decisions (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    case_id TEXT,
    supervisor_id TEXT,
    decision TEXT,
    comments TEXT,
    decided_at TEXT,
    case_digest TEXT,
    signature TEXT,
    public_key TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT
);
CREATE INDEX closure_decisions_by_station ON closure_decisions (station_id);
CREATE INDEX closure_decisions_by_case ON closure_decisions (case_id);

CREATE TABLE referrals (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    recipient_id TEXT,
    direction TEXT,
    counterpart TEXT,
    reason TEXT,
    referred_on TEXT,
    outcome TEXT,
    outcome_notes TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT
);
CREATE INDEX referrals_by_station ON referrals (station_id);
CREATE INDEX referrals_by_recipient ON referrals (recipient_id);

CREATE TABLE resources (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    kind TEXT,
    name TEXT,
    contact_name TEXT,
    contact_phone TEXT,
    services TEXT,
    active INTEGER,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT
);
CREATE INDEX resources_by_station ON resources (station_id);
