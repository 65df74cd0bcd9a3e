"""Names of tables, columns, enums, routes and constraints: the only place identifiers come from."""

from __future__ import annotations

from typing import Final

# --- tables -----------------------------------------------------------------
SCHEMA_VERSION: Final = "schema_version"
DISTRICTS: Final = "districts"
VENDORS: Final = "vendors"
PURCHASES: Final = "purchases"  # a view: purchase_lines joined with their items and packs
PURCHASE_LINES: Final = "purchase_lines"
PURCHASE_ITEMS: Final = "purchase_items"
PURCHASE_PACKS: Final = "purchase_packs"
ITEM_ID_SEQ: Final = "item_id_seq"
PACK_ID_SEQ: Final = "pack_id_seq"
CORRECTIONS: Final = "classification_corrections"
CORRECTION_ID: Final = "correction_id"
CORRECTION_ID_SEQ: Final = "correction_id_seq"
MEAL_COUNTS: Final = "meal_counts"
BATCHES: Final = "batches"
REJECTS: Final = "rejects"
MAPPINGS: Final = "mappings"
SETTINGS: Final = "settings"

# --- canonical purchase-line columns (DESIGN.md, "The purchase line") ------------
DISTRICT_ID: Final = "district_id"
INVOICE_DATE: Final = "invoice_date"
VENDOR_NAME: Final = "vendor_name"
VENDOR_TYPE: Final = "vendor_type"
PRODUCT: Final = "product"
DESCRIPTION: Final = "description"
CATEGORY: Final = "category"
UNPROCESSED: Final = "unprocessed"
QUANTITY: Final = "quantity"
UNIT: Final = "unit"
UNIT_PRICE: Final = "unit_price"
EXTENDED_PRICE: Final = "extended_price"
ORIGIN_STATE: Final = "origin_state"
ORIGIN_ZIP: Final = "origin_zip"
ORIGIN_COUNTRY: Final = "origin_country"  # ISO 3166-1 alpha-2 code (Buy American); optional
INVOICE_NO: Final = "invoice_no"

# --- derived / bookkeeping purchase columns --------------------------------------
BATCH_ID: Final = "batch_id"
SOURCE_ROW: Final = "source_row"
PERIOD_START: Final = "period_start"
PERIOD_END: Final = "period_end"
PACK_SIZE: Final = "pack_size"
BASE_QUANTITY: Final = "base_quantity"
BASE_UNIT: Final = "base_unit"
PRODUCT_CONFIDENCE: Final = "product_confidence"
UNPROCESSED_RULE: Final = "unprocessed_rule"
LINE_KEY: Final = "line_key"
ITEM_ID: Final = "item_id"
PACK_ID: Final = "pack_id"
PRICE_FLAG: Final = "price_flag"

CANONICAL_COLUMNS: Final = (
    DISTRICT_ID,
    INVOICE_DATE,
    VENDOR_NAME,
    VENDOR_TYPE,
    PRODUCT,
    CATEGORY,
    UNPROCESSED,
    QUANTITY,
    UNIT,
    UNIT_PRICE,
    EXTENDED_PRICE,
    ORIGIN_STATE,
    ORIGIN_ZIP,
    ORIGIN_COUNTRY,
    INVOICE_NO,
)

# --- district columns ----------------------------------------------------------
NAME: Final = "name"
STATE: Final = "state"
ZIP: Final = "zip"
LOCAL_RADIUS_MILES: Final = "local_radius_miles"
LOCAL_STATES: Final = "local_states"
LOCAL_COUNTIES: Final = "local_counties"
ANNUAL_MEALS: Final = "annual_meals"
MICRO_PURCHASE_THRESHOLD: Final = "micro_purchase_threshold"
SMALL_PURCHASE_THRESHOLD: Final = "small_purchase_threshold"
BILL_TO_ID: Final = "bill_to_id"

PERIOD_ALLOCATION: Final = "period_allocation"  # days (default) or meals: how the district's period lines are spread
DISTRICT_COLUMNS: Final = (
    DISTRICT_ID,
    NAME,
    STATE,
    ZIP,
    LOCAL_RADIUS_MILES,
    LOCAL_STATES,
    LOCAL_COUNTIES,
    ANNUAL_MEALS,
    MICRO_PURCHASE_THRESHOLD,
    SMALL_PURCHASE_THRESHOLD,
)
DISTRICT_REQUIRED: Final = (DISTRICT_ID, NAME, STATE, ZIP)

# --- batch, meal-count, reject columns ------------------------------------------
FILE_NAME: Final = "file_name"
SHA256: Final = "sha256"
ROWS_LOADED: Final = "rows_loaded"
ROWS_REJECTED: Final = "rows_rejected"
LOADED_AT: Final = "loaded_at"
SOURCE_KIND: Final = "source_kind"
MONTH: Final = "month"
MEALS: Final = "meals"
ROW: Final = "row"
COLUMN: Final = "column"
REASON: Final = "reason"
RAW: Final = "raw"

# --- enums -----------------------------------------------------------------------
VENDOR_TYPES: Final = (
    "producer",
    "farmers_market",
    "csa",
    "food_hub",
    "producer_coop",
    "buying_coop",
    "state_program",
    "broadline_distributor",
    "processor",
    "dod_fresh",
    "usda_foods",
    "fsmc",
    "other",
)
CATEGORIES: Final = ("fruit", "vegetable", "grain", "protein", "dairy", "other")
BASE_UNITS: Final = ("lb", "gal", "each", "dozen")

# --- supply-chain routes (the paper's four choice variables) ------------------------
DIRECT_LOCAL: Final = "direct_local"
NONTRADITIONAL_LOCAL: Final = "nontraditional_local"
TRADITIONAL_LOCAL: Final = "traditional_local"
TRADITIONAL_NONLOCAL: Final = "traditional_nonlocal"
ROUTES: Final = (DIRECT_LOCAL, NONTRADITIONAL_LOCAL, TRADITIONAL_LOCAL, TRADITIONAL_NONLOCAL)
LOCAL_ROUTES: Final = (DIRECT_LOCAL, NONTRADITIONAL_LOCAL, TRADITIONAL_LOCAL)
ROUTE: Final = "route"

DIRECT_VENDOR_TYPES: Final = ("producer", "farmers_market", "csa")
NONTRADITIONAL_VENDOR_TYPES: Final = ("food_hub", "producer_coop", "buying_coop", "state_program")
TRADITIONAL_VENDOR_TYPES: Final = (
    "broadline_distributor",
    "processor",
    "dod_fresh",
    "usda_foods",
    "fsmc",
    "other",
)

# --- LP constraints (DESIGN.md command-line contract) ----------------------------
QUANTITY_CONSTRAINT: Final = "quantity"
LABOR: Final = "labor"
ASSORTMENT_BREADTH: Final = "assortment_breadth"
ASSORTMENT_DEPTH: Final = "assortment_depth"
LOCAL_INTENSITY: Final = "local_intensity"
ECONOMIC_IMPACT: Final = "economic_impact"
PRICE_RISK: Final = "price_risk"
OPERATIONAL_CONSTRAINTS: Final = (QUANTITY_CONSTRAINT, LABOR, ASSORTMENT_BREADTH, ASSORTMENT_DEPTH)
POLICY_CONSTRAINTS: Final = (LOCAL_INTENSITY, ECONOMIC_IMPACT, PRICE_RISK)
CONSTRAINTS: Final = OPERATIONAL_CONSTRAINTS + POLICY_CONSTRAINTS

# --- settings keys -----------------------------------------------------------------
SETTING_KEY: Final = "key"
SETTING_VALUE: Final = "value"
GOAL_LOCAL_SHARE: Final = "goal_local_share"
GOAL_DATE: Final = "goal_date"
SUMMARY_LAYOUT: Final = "summary_layout"  # how the purchase summary was built (coop.store.summary.LAYOUT)
EARLIEST_INVOICE_DATE: Final = "earliest_invoice_date"  # ISO date; invoice dates before it are rejected

# --- pooled co-op quotes (coop/quotes.py): tiers, capacities, fixed costs as an editable table ---------
POOL_QUOTES: Final = "pool_quotes"
QUOTE_KIND: Final = "kind"
QUOTE_THRESHOLD: Final = "threshold"
QUOTE_VALUE: Final = "value"
QUOTE_NOTE: Final = "note"

# --- procurement rules (coop/rules.py): contracts on record and dated thresholds -------------------------
CONTRACTS: Final = "contracts"
METHOD: Final = "method"  # formal, small_purchase, entitlement
START_DATE: Final = "start_date"
END_DATE: Final = "end_date"
PROCUREMENT_THRESHOLDS: Final = "procurement_thresholds"
EFFECTIVE_DATE: Final = "effective_date"
THRESHOLD_KIND: Final = "kind"  # micro, small
THRESHOLD_VALUE: Final = "value"
JURISDICTION: Final = "jurisdiction"  # federal, state, district
SCOPE: Final = "scope"  # state code or district_id; NULL for federal
LOCAL_UNPROCESSED_VALUE: Final = "local_unprocessed_value"
SOURCE: Final = "source"
SCHOOL_YEAR: Final = "school_year"  # July-June, named by its first calendar year

# --- purchase summary (coop/summary.py): the metric grains per batch and month, maintained on load --------------
PURCHASE_SUMMARY: Final = "purchase_summary"
SUMMARY_KEYS: Final = "summary_keys"
SUMMARY_KEY_SEQ: Final = "summary_key_seq"
KEY_ID: Final = "key_id"
GRAIN: Final = "grain"  # shares, prices, vendors
SPEND_CENTS: Final = "spend_cents"
PRICED_CENTS: Final = "priced_cents"  # spend of lines with a base quantity
LINES: Final = "lines"
UNPRICED_LINES: Final = "unpriced_lines"  # lines without a base quantity

# --- users, roles and the audit log (coop/registry/users.py, coop/store/audit.py; DESIGN "Users and roles") ------
USERS: Final = "users"
EMAIL: Final = "email"
ROLE: Final = "role"
USER_DISTRICTS: Final = "districts"  # the district ids a partner or district user may see
COORDINATOR: Final = "coordinator"
PARTNER: Final = "partner"
DISTRICT_ROLE: Final = "district"
VIEWER: Final = "viewer"
ROLES: Final = (COORDINATOR, PARTNER, DISTRICT_ROLE, VIEWER)
AUDIT_LOG: Final = "audit_log"
AUDIT_AT: Final = "logged_at"
ACTOR: Final = "actor"
ACTION: Final = "action"
DETAIL: Final = "detail"
PEER_MIN_DISTRICTS: Final = "peer_min_districts"  # settings: a peer aggregate needs at least this many districts
PEER_MAX_SHARE: Final = "peer_max_share"  # settings: ... and none of them above this share of it

# --- what a batch registered (coop/ingest/sink.py writes it; undo removes what nothing else uses) ---------------
BATCH_REGISTRATIONS: Final = "batch_registrations"
REGISTERED_TABLE: Final = "registered_table"  # districts or vendors
REGISTERED_KEY: Final = "registered_key"  # the district_id or vendor_name the batch added
VENDOR_TYPE_RULE: Final = "vendor_type_rule"  # how a line's vendor type was decided: file, registry, a report marker

# --- Buy American (coop/rules/buy_american.py): documented exceptions per district -------------------------------
BUY_AMERICAN_EXCEPTIONS: Final = "buy_american_exceptions"
EXCEPTION_REASON: Final = "reason"
APPROVED_BY: Final = "approved_by"
APPROVED_ON: Final = "approved_on"

# --- procurement records (coop/rules/procurement.py): quotes behind seed 002's worksheets ------------------------
PROCUREMENT_QUOTES: Final = "procurement_quotes"
PROCUREMENT_ID: Final = "procurement_id"
QUOTE_DATE: Final = "date"
ITEM: Final = "item"
SPECIFICATION: Final = "specification"
ESTIMATED_VALUE: Final = "estimated_value"
VENDOR_ADDRESS: Final = "vendor_address"
MEETS_SPECS: Final = "meets_specs"
MEETS_DELIVERY: Final = "meets_delivery"
QUOTE: Final = "quote"
ACCEPTED: Final = "accepted"
