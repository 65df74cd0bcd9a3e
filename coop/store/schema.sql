-- coop database schema, version 1. Identifiers here must match coop/names.py.
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER NOT NULL,
    applied_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE IF NOT EXISTS districts (
    district_id               TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,
    state                     TEXT NOT NULL,
    zip                       TEXT NOT NULL,
    local_radius_miles        DOUBLE,
    local_states              TEXT[],
    local_counties            TEXT[],
    annual_meals              BIGINT,
    micro_purchase_threshold  DECIMAL(18, 2),
    small_purchase_threshold  DECIMAL(18, 2),
    bill_to_id                TEXT,
    period_allocation         TEXT    -- how its period lines are spread: days (NULL: days) or meals (coop/store/periods.py)
);

-- vendor registry: fills vendor_type (and a default origin) when a file lacks them
CREATE TABLE IF NOT EXISTS vendors (
    vendor_name   TEXT PRIMARY KEY,
    vendor_type   TEXT NOT NULL,
    origin_state  TEXT,
    origin_zip    TEXT
);

CREATE SEQUENCE IF NOT EXISTS batch_id_seq START 1;

CREATE TABLE IF NOT EXISTS batches (
    batch_id       INTEGER PRIMARY KEY DEFAULT nextval('batch_id_seq'),
    file_name      TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    district_id    TEXT,            -- NULL for a multi-district report
    source_kind    TEXT NOT NULL,   -- csv, xlsx, parquet, usage_report, sample
    rows_loaded    BIGINT NOT NULL,
    rows_rejected  BIGINT NOT NULL,
    loaded_at      TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- A purchase line is stored in three parts: what it bought (purchase_items) and how it was counted
-- (purchase_packs) once per distinct combination, the rest per line (purchase_lines); the `purchases` view joins
-- them back into the canonical line. Stored this way a load writes half the data (1M lines: 1.0 instead of 2.1
-- CPU-seconds of DuckDB's storage work).
CREATE SEQUENCE IF NOT EXISTS item_id_seq START 1;

CREATE TABLE IF NOT EXISTS purchase_items (
    item_id             INTEGER PRIMARY KEY,
    description         TEXT NOT NULL,        -- the item description as the source gives it
    product             TEXT NOT NULL,        -- the commodity, e.g. 'apples'
    product_confidence  DOUBLE NOT NULL,      -- 1.0 when given by the file
    category            TEXT NOT NULL,
    unprocessed         BOOLEAN NOT NULL,
    unprocessed_rule    TEXT NOT NULL         -- 'file' or the classification rule that decided
);

CREATE SEQUENCE IF NOT EXISTS pack_id_seq START 1;

CREATE TABLE IF NOT EXISTS purchase_packs (
    pack_id             INTEGER PRIMARY KEY,
    unit                TEXT NOT NULL,
    pack_size           TEXT,
    base_unit           TEXT                  -- the category's base unit; NULL if not convertible
);

CREATE TABLE IF NOT EXISTS purchase_lines (
    batch_id            INTEGER NOT NULL,
    source_row          INTEGER NOT NULL,     -- row number as a spreadsheet shows it (header = 1)
    district_id         TEXT NOT NULL,
    invoice_date        DATE NOT NULL,
    period_start        DATE,                 -- set when the source reports a period, not a date
    period_end          DATE,
    vendor_name         TEXT NOT NULL,
    vendor_type         TEXT NOT NULL,
    item_id             INTEGER NOT NULL,     -- purchase_items
    quantity            DOUBLE NOT NULL,
    pack_id             INTEGER NOT NULL,     -- purchase_packs
    base_quantity       DOUBLE,               -- quantity in the category's base unit; NULL if not convertible
    unit_price          DECIMAL(18, 4) NOT NULL,
    extended_price      DECIMAL(18, 2) NOT NULL,
    price_flag          BOOLEAN NOT NULL DEFAULT false,  -- extended_price != quantity x unit_price (> 1 cent)
    origin_state        TEXT,
    origin_zip          TEXT,
    invoice_no          TEXT,
    line_key            UBIGINT NOT NULL,      -- hash of the canonical columns, to detect duplicates
    vendor_type_rule    TEXT,                  -- how vendor_type was decided: 'file', 'registry', '--vendor-type' or
                                               -- a usage report's marker, e.g. "brand 'DOD FRESH PRODUCE'" (v3)
    origin_country      TEXT                   -- ISO 3166-1 alpha-2 (Buy American); NULL: not given. Not in line_key
);

CREATE VIEW IF NOT EXISTS purchases AS
SELECT l.batch_id, l.source_row, l.district_id, l.invoice_date, l.period_start, l.period_end, l.vendor_name,
       l.vendor_type, i.description, i.product, i.product_confidence, i.category, i.unprocessed, i.unprocessed_rule,
       l.quantity, p.unit, p.pack_size, l.base_quantity, p.base_unit, l.unit_price, l.extended_price, l.price_flag,
       l.origin_state, l.origin_zip, l.origin_country, l.invoice_no, l.line_key, l.vendor_type_rule
FROM purchase_lines l
JOIN purchase_items i ON i.item_id = l.item_id
JOIN purchase_packs p ON p.pack_id = l.pack_id;

-- what a batch registered in its own transaction (a usage report's --add-districts, --vendor-type for a file's
-- unknown vendors): undo removes those rows when nothing else uses them; an upsert from a registry file adopts them
CREATE TABLE IF NOT EXISTS batch_registrations (
    batch_id          INTEGER NOT NULL,
    registered_table  TEXT NOT NULL,       -- districts or vendors
    registered_key    TEXT NOT NULL        -- district_id or vendor_name
);

CREATE TABLE IF NOT EXISTS meal_counts (
    district_id  TEXT NOT NULL,
    month        DATE NOT NULL,
    meals        BIGINT NOT NULL,
    PRIMARY KEY (district_id, month)
);

CREATE TABLE IF NOT EXISTS rejects (
    batch_id     INTEGER NOT NULL,
    file_name    TEXT NOT NULL,
    "row"        INTEGER NOT NULL,
    "column"     TEXT NOT NULL,
    reason       TEXT NOT NULL,
    raw          TEXT
);

CREATE TABLE IF NOT EXISTS mappings (
    name     TEXT PRIMARY KEY,
    mapping  JSON NOT NULL
);

CREATE TABLE IF NOT EXISTS settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- pooled co-op price terms a coordinator can edit (coop/quotes.py holds the labelled default assumptions);
-- kind: tier (threshold = pooled volume in multiples of the median member's annual demand, value = fraction off),
-- capacity (value = multiple of the co-op's current annual volume on the route), fixed_cost (value = $ per year)
CREATE TABLE IF NOT EXISTS pool_quotes (
    route      TEXT NOT NULL,
    category   TEXT NOT NULL,      -- a category, or '*' for every category
    kind       TEXT NOT NULL,
    threshold  DOUBLE,
    value      DOUBLE NOT NULL,
    note       TEXT NOT NULL
);

-- procurement contracts on record (coop/rules.py): a vendor under a contract covering a purchase's date is
-- not a micro-purchase; method is formal, small_purchase or entitlement (USDA Foods, DoD Fresh)
CREATE TABLE IF NOT EXISTS contracts (
    district_id  TEXT NOT NULL,
    vendor_name  TEXT NOT NULL,
    method       TEXT NOT NULL,
    start_date   DATE NOT NULL,
    end_date     DATE               -- NULL: open-ended
);

-- user-added dated thresholds (coop/rules.py adds them to the shipped federal and seed 002 defaults);
-- kind micro or small, jurisdiction federal / state (scope = state code) / district (scope = district_id)
CREATE TABLE IF NOT EXISTS procurement_thresholds (
    effective_date           DATE NOT NULL,
    kind                     TEXT NOT NULL,
    value                    DECIMAL(18, 2) NOT NULL,
    jurisdiction             TEXT NOT NULL,
    scope                    TEXT,
    local_unprocessed_value  DECIMAL(18, 2),   -- a state's higher small-purchase limit for local unprocessed products
    source                   TEXT NOT NULL
);

-- who may see what (coop/registry/users.py, DESIGN "Users and roles"): role coordinator, partner, district or
-- viewer; districts = the district ids a partner or district user may see (empty for coordinators and viewers)
CREATE TABLE IF NOT EXISTS users (
    email      TEXT PRIMARY KEY,   -- lower case
    role       TEXT NOT NULL,
    districts  TEXT[] NOT NULL
);

-- who loaded, undid, corrected or edited what and when (coop/store/audit.py); the CLI records the OS user
CREATE TABLE IF NOT EXISTS audit_log (
    logged_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL
);

-- Buy American exceptions a district documented (coop/rules/buy_american.py): a non-domestic product bought under
-- 7 CFR 210.21(d)'s limited exceptions, why, who approved it and when; shown beside the district's figure
CREATE TABLE IF NOT EXISTS buy_american_exceptions (
    district_id  TEXT NOT NULL,
    product      TEXT NOT NULL,
    reason       TEXT NOT NULL,
    approved_by  TEXT NOT NULL,
    approved_on  DATE NOT NULL
);

-- quotes of small procurements (coop/rules/procurement.py, seed 002's worksheets): one row per vendor contacted;
-- a procurement is its rows with one procurement_id (loading a procurement again replaces its rows)
CREATE TABLE IF NOT EXISTS procurement_quotes (
    procurement_id   TEXT NOT NULL,
    district_id      TEXT NOT NULL,
    date             DATE NOT NULL,
    item             TEXT NOT NULL,
    specification    TEXT,
    quantity         DOUBLE,
    unit             TEXT,
    estimated_value  DECIMAL(18, 2) NOT NULL,
    vendor_name      TEXT,
    vendor_address   TEXT,
    meets_specs      BOOLEAN,
    meets_delivery   BOOLEAN,
    quote            DECIMAL(18, 2),
    accepted         BOOLEAN,
    reason           TEXT,
    source_row       INTEGER NOT NULL
);

-- the purchase lines compacted per batch and month to the three metric grains (coop/summary.py); written in the
-- load's transaction, deleted with its batch. Each grain row's text keys are stored once in summary_keys
-- (grain shares: district, category, base unit, vendor type, origin; prices: + product; vendors: district, vendor,
-- vendor type, origin; the other keys NULL) and purchase_summary holds the sums per batch, key and month (plus,
-- for the prices and vendors grains, per batch and key over all months: what a range covering all data reads).
-- Locality is not stored: metrics apply each district's current definition of local.
CREATE SEQUENCE IF NOT EXISTS summary_key_seq START 1;

CREATE TABLE IF NOT EXISTS summary_keys (
    key_id        BIGINT NOT NULL,
    grain         TEXT NOT NULL,      -- shares, prices, vendors
    district_id   TEXT NOT NULL,
    product       TEXT,
    vendor_name   TEXT,
    category      TEXT,
    base_unit     TEXT,
    vendor_type   TEXT NOT NULL,
    origin_zip    TEXT,
    origin_state  TEXT
);

CREATE TABLE IF NOT EXISTS purchase_summary (
    batch_id        INTEGER NOT NULL,
    key_id          BIGINT NOT NULL,   -- summary_keys.key_id
    grain           TEXT NOT NULL,
    month           DATE,              -- NULL: the batch's total over its months (prices and vendors grains)
    spend_cents     BIGINT NOT NULL,   -- sum of extended_price in whole cents (exact)
    base_quantity   DOUBLE,            -- sum of base_quantity (NULL when no line has one)
    priced_cents    BIGINT NOT NULL,   -- spend of the lines that have a base quantity
    lines           BIGINT NOT NULL,
    unpriced_lines  BIGINT NOT NULL    -- lines without a base quantity
);

-- classification corrections (coop/products/corrections.py): a person's answer for one item text, applied by every
-- load and re-applied to the lines already stored; undone by setting undone_by/undone_at (the row is kept). The
-- latest correction not undone for a text_key (the description upper-cased, spaces collapsed) is the one in force.
CREATE SEQUENCE IF NOT EXISTS correction_id_seq START 1;

CREATE TABLE IF NOT EXISTS classification_corrections (
    correction_id  INTEGER PRIMARY KEY,
    text_key       TEXT NOT NULL,
    description    TEXT NOT NULL,     -- the text as the person typed it
    category       TEXT NOT NULL,
    unprocessed    BOOLEAN NOT NULL,
    product        TEXT,              -- NULL: keep the classifier's product
    made_by        TEXT NOT NULL,
    made_at        TIMESTAMP NOT NULL,
    undone_by      TEXT,
    undone_at      TIMESTAMP
);
