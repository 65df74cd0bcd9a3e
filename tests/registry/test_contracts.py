"""coop.registry.contracts: contracts on record are validated cell by cell and stored all or nothing."""

from datetime import date

import duckdb
import polars as pl
import pytest

from coop import names
from coop.errors import ValidationError
from coop.registry import contracts


def test_contracts_validation(con: duckdb.DuckDBPyConnection) -> None:
    bad = pl.DataFrame(
        {
            names.DISTRICT_ID: ["d"],
            names.VENDOR_NAME: ["V"],
            names.METHOD: ["handshake"],
            names.START_DATE: [date(2024, 7, 1)],
        }
    )
    with pytest.raises(ValidationError) as info:
        contracts.upsert(con, bad, "contracts.csv")
    assert info.value.problems[0].row == 2 and info.value.problems[0].column == names.METHOD
    assert con.execute(f"SELECT count(*) FROM {names.CONTRACTS}").fetchall() == [(0,)]


def test_contracts_upsert_replaces_same_start_and_loads_back(con: duckdb.DuckDBPyConnection) -> None:
    first = pl.DataFrame(
        {
            names.DISTRICT_ID: ["d", "d"],
            names.VENDOR_NAME: ["Dairy", "Farm"],
            names.METHOD: [contracts.CONTRACT_SMALL, contracts.CONTRACT_FORMAL],
            names.START_DATE: [date(2024, 7, 1), date(2024, 7, 1)],
        }
    )
    assert contracts.upsert(con, first) == 2
    again = first.head(1).with_columns(pl.lit(contracts.CONTRACT_FORMAL).alias(names.METHOD))
    assert contracts.upsert(con, again) == 1
    stored = contracts.load(con).sort(names.VENDOR_NAME)
    assert stored[names.METHOD].to_list() == [contracts.CONTRACT_FORMAL, contracts.CONTRACT_FORMAL]
    assert stored[names.END_DATE].to_list() == [None, None]
