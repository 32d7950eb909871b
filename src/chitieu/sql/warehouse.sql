-- Schemas and tables owned by ingestion (the loader). Idempotent: run before every ingest.
create schema if not exists raw;
create schema if not exists audit;

comment on schema raw is 'Submissions as loaded: the file ledger and every accepted row (history, never updated).';
comment on schema audit is 'Errors of rejected submissions and every file''s receipt.';

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
    -- A rejected file's province/unit pairs, from its rows loaded before its first error
    -- (who is told: chitieu.morning.notices), 'province/unit' joined by ';'.
    reporters text,
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
    sheet_index smallint not null default 0,
    sheet text,
    primary key (submission_id, sheet_index, row_number)
);
comment on table raw.submission_value is 'Every row of every accepted submission, as parsed (rates on the 0-100 scale). History: never updated.';
comment on column raw.submission_value.row_number is 'The row as a spreadsheet shows it, in its sheet.';
comment on column raw.submission_value.sheet_index is 'The sheet''s position in the workbook, from 0 (0 for a CSV file).';
comment on column raw.submission_value.sheet is 'The sheet''s name (NULL for a CSV file).';

-- Warehouses created before the above lose what it removed. Looked up first: ALTER TABLE
-- would lock the table against concurrent ingest workers even when there is nothing to drop.
do $$
begin
    drop index if exists raw.submission_value_key;
    -- Contract v1.1 reads every sheet of a workbook: rows are numbered per sheet.
    if not exists (
        select from information_schema.columns
        where table_schema = 'raw' and table_name = 'submission_value'
            and column_name = 'sheet_index'
    ) then
        alter table raw.submission_value
            add column sheet_index smallint not null default 0,
            add column sheet text,
            drop constraint submission_value_pkey,
            add primary key (submission_id, sheet_index, row_number);
    end if;
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
    sheet text,
    primary key (submission_id, error_number)
);
comment on table audit.submission_error is 'Every error of every rejected submission (row as a spreadsheet shows it, in sheet for a workbook).';
-- Columns added since these tables were first created, added once to an older warehouse;
-- looked up first (ALTER TABLE would lock the table against concurrent ingest workers).
do $$
declare
    missing record;
begin
    for missing in
        select wanted.*
        from (values
            ('raw', 'submission_file', 'reporters', 'text'),
            ('audit', 'submission_error', 'sheet', 'text')
        ) as wanted (schema_name, table_name, column_name, column_type)
        where not exists (
            select from information_schema.columns as found
            where found.table_schema = wanted.schema_name
                and found.table_name = wanted.table_name
                and found.column_name = wanted.column_name
        )
    loop
        execute format(
            'alter table %I.%I add column %I %s',
            missing.schema_name, missing.table_name, missing.column_name, missing.column_type
        );
    end loop;
end
$$;

create table if not exists audit.submission_receipt (
    submission_id bigint not null references raw.submission_file (submission_id),
    line_number integer not null,
    kind text not null check (kind in ('header', 'row_skipped', 'sheet_not_loaded')),
    sheet text,
    row_number integer,
    message_vi text not null,
    message_en text not null,
    primary key (submission_id, line_number)
);
comment on table audit.submission_receipt is 'What the reader did with each file, accepted or rejected: the sheet(s) and row taken as the header, rows skipped and why, sheets not loaded and why.';

create table if not exists audit.run_step (
    run_id text not null,
    step text not null,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    outcome text not null check (outcome in ('ok', 'failed')),
    detail jsonb,
    primary key (run_id, step, started_at)
);
comment on table audit.run_step is 'The steps of each pipeline run (chitieu run, the nightly DAG): when, how long, with what outcome (chitieu.journal).';
