-- Schemas and tables owned by ingestion (the loader). Idempotent: run before every ingest.
create schema if not exists raw;
create schema if not exists audit;

comment on schema raw is 'Submissions as loaded: the file ledger and every accepted row (history, never updated).';
comment on schema audit is 'Errors of rejected submissions.';

create table if not exists raw.submission_file (
    submission_id bigint generated always as identity primary key,
    path text not null,
    size_bytes bigint not null,
    sha256 text not null,
    file_format text not null,
    submitted_at timestamptz not null,
    modified_ns bigint not null,
    outcome text not null check (outcome in ('accepted', 'rejected', 'duplicate')),
    row_count integer not null default 0,
    error_count integer not null default 0,
    duplicate_of bigint references raw.submission_file (submission_id),
    quarantine_path text,
    seen_at timestamptz not null default now(),
    duration_ms integer,
    unique (path, sha256)
);
-- A file's content is accepted once, whatever its path; a second accepted row is a race
-- between two workers and fails here, so it is recorded as a duplicate instead.
create unique index if not exists submission_file_accepted_sha256
    on raw.submission_file (sha256) where outcome = 'accepted';

comment on table raw.submission_file is 'Ledger: one row per file seen in the landing area (path, content hash, submitted_at = modification time, outcome).';

-- Only the primary key: rows arrive in key order, so COPY maintains it cheaply. No foreign
-- key and no index on the indicator key: their per-row upkeep made ingest 4-5x slower than a
-- raw COPY (benchmarks/ingest_vs_copy.py), and nothing needs them: the loader writes a file's
-- rows in the transaction that records it in the ledger (the dbt relationships test on
-- stg_raw__submission_values checks it every build), and the incremental marts hash-join
-- new keys against the history rather than probing an index.
create table if not exists raw.submission_value (
    submission_id bigint not null,
    row_number integer not null,
    province_code text not null,
    unit_code text not null,
    period text not null,
    indicator_code text not null,
    numerator bigint,
    denominator bigint,
    value numeric,
    note text,
    primary key (submission_id, row_number)
);
comment on table raw.submission_value is 'Every row of every accepted submission, as parsed (rates on the 0-100 scale). History: never updated.';

-- Warehouses created before the above lose what it removed. Looked up first: ALTER TABLE
-- would lock the table against concurrent ingest workers even when there is nothing to drop.
do $$
begin
    drop index if exists raw.submission_value_key;
    if exists (
        select from pg_constraint
        where conrelid = 'raw.submission_value'::regclass and contype = 'f'
    ) then
        alter table raw.submission_value
            drop constraint if exists submission_value_submission_id_fkey;
    end if;
end
$$;

create table if not exists audit.submission_error (
    submission_id bigint not null references raw.submission_file (submission_id),
    error_number integer not null,
    row_number integer,
    column_name text,
    rule text not null,
    message_vi text not null,
    message_en text not null,
    raw_value text,
    primary key (submission_id, error_number)
);
comment on table audit.submission_error is 'Every error of every rejected submission (row as a spreadsheet shows it, header = row 1).';
