from datetime import timedelta

import polars as pl
import pytest

from coop import cli, names, sample
from coop.ingest import ingest_file
from coop.metrics import local
from coop.optimize.paper import PAPER_COST_PER_MEAL, PAPER_RATIO
from coop.store import db

DIRECT = list(names.DIRECT_VENDOR_TYPES)
NONTRAD = list(names.NONTRADITIONAL_VENDOR_TYPES)


@pytest.fixture(scope="module")
def generated():
    return sample.generate()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The bundled sample loaded once into a fresh database; yields (path, first load result)."""
    path = tmp_path_factory.mktemp("sample") / "coop.duckdb"
    con = db.connect(path)
    try:
        result = sample.load(con)
    finally:
        con.close()
    return path, result


def _lines_with_locality(path):
    con = db.connect(path)
    try:
        lines = con.sql(
            f"SELECT {names.DISTRICT_ID}, {names.INVOICE_DATE}, {names.VENDOR_NAME}, {names.VENDOR_TYPE}, "
            f"{names.CATEGORY}, {names.ORIGIN_STATE}, {names.ORIGIN_ZIP}, "
            f"CAST({names.EXTENDED_PRICE} AS DOUBLE) AS {names.EXTENDED_PRICE} FROM {names.PURCHASES}"
        ).pl()
        districts = con.sql(f"SELECT * FROM {names.DISTRICTS}").pl()
    finally:
        con.close()
    return local.with_route(local.with_locality(lines.lazy(), districts.lazy())).collect()


def test_deterministic_for_a_seed():  # rows drawn, plus the 36 planted imported lines
    a = sample.generate(rows=3000, seed=7)
    b = sample.generate(rows=3000, seed=7)
    c = sample.generate(rows=3000, seed=8)
    assert a.all_purchases.height == 3000 + sample.imported_lines().height == 3036
    assert a.all_purchases.equals(b.all_purchases)
    assert a.meal_counts.equals(b.meal_counts)
    assert not a.all_purchases.equals(c.all_purchases)


def test_bundled_files_are_the_generators_output(generated, tmp_path):
    sample.write(generated, tmp_path)
    for path in [*sample.DEFAULT_DIR.glob("*.csv"), *(sample.DEFAULT_DIR / sample.PURCHASES_DIR).glob("*.*")]:
        fresh = tmp_path / path.relative_to(sample.DEFAULT_DIR)
        if path.suffix == ".parquet":
            assert pl.read_parquet(fresh).equals(pl.read_parquet(path)), path.name
        else:
            assert fresh.read_bytes() == path.read_bytes(), (
                f"{path.name} is stale: run `python -m coop sample --regenerate`"
            )


def test_shape_of_the_default_set(generated):
    lines = generated.all_purchases
    assert lines.height >= 20_000
    assert generated.districts.height == 7
    assert set(generated.purchases) == set(generated.districts[names.DISTRICT_ID])
    assert set(generated.vendors[names.VENDOR_TYPE]) == set(names.VENDOR_TYPES)
    assert set(lines[names.VENDOR_TYPE].drop_nulls()) == set(names.VENDOR_TYPES)
    assert lines[names.INVOICE_DATE].min() >= sample.FIRST_DAY
    assert lines[names.INVOICE_DATE].max() <= sample.LAST_DAY
    # extended price = quantity x unit price to the cent, on every line
    diff = (lines[names.EXTENDED_PRICE] - lines[names.QUANTITY] * lines[names.UNIT_PRICE]).abs()
    assert diff.max() <= 0.005 + 1e-9
    assert (lines[names.QUANTITY] > 0).all()
    # some classification columns left blank for inference, most given
    for column in (names.VENDOR_TYPE, names.CATEGORY, names.UNPROCESSED):
        blank = lines[column].null_count() / lines.height
        assert 0.02 < blank < 0.15, column
    # distributor-style units and pack sizes
    assert {"CS", "LB", "GAL", "EA"} <= set(lines[names.UNIT])
    assert {"6/#10", "15 DZ", "50/8 OZ"} <= set(lines[names.PACK_SIZE].drop_nulls())
    assert "Apples, Gala, 88ct" in set(lines[names.PRODUCT])
    # one invoice number = one vendor, district and date
    per_invoice = lines.group_by(names.INVOICE_NO).agg(
        pl.col(names.VENDOR_NAME).n_unique(),
        pl.col(names.DISTRICT_ID).n_unique(),
        pl.col(names.INVOICE_DATE).n_unique(),
    )
    assert (per_invoice.drop(names.INVOICE_NO).max_horizontal() == 1).all()


def test_district_sizes_and_local_definitions_differ(generated):
    d = {r[names.DISTRICT_ID]: r for r in generated.districts.to_dicts()}
    students = {x.district_id: x.students for x in sample.DISTRICTS}
    assert min(students.values()) <= 350 and max(students.values()) >= 38_000
    assert {x.state for x in sample.DISTRICTS} == {"MN", "WI", "IA"}
    kinds = set()
    for row in d.values():
        if row[names.LOCAL_RADIUS_MILES] is not None:
            kinds.add(("radius", row[names.LOCAL_RADIUS_MILES]))
        elif row[names.LOCAL_STATES]:
            kinds.add("states")
        elif row[names.LOCAL_COUNTIES]:
            kinds.add("counties")
        else:
            kinds.add("own_state")
    assert {("radius", 100.0), "states", "counties", "own_state"} <= kinds


def test_meal_counts_follow_the_school_year(generated):
    m = generated.meal_counts.with_columns(pl.col(names.MONTH).dt.month().alias("m"))
    assert m.height == 7 * 24
    by = m.group_by(names.DISTRICT_ID, "m").agg(pl.col(names.MEALS).sum())
    for district_id in generated.purchases:
        one = dict(by.filter(pl.col(names.DISTRICT_ID) == district_id).select("m", names.MEALS).iter_rows())
        assert one[7] < 0.25 * one[10] and one[6] < 0.5 * one[10]
    riverbend = generated.districts.filter(pl.col(names.DISTRICT_ID) == "riverbend")[names.ANNUAL_MEALS].item()
    # ~40,000 students x 0.92 meals a day x ~180 days
    assert riverbend == pytest.approx(40_000 * sample.MEALS_PER_STUDENT_DAY * 180, rel=0.05)


def test_spend_per_meal_is_the_papers_baseline(generated):
    spend = generated.all_purchases.group_by(names.DISTRICT_ID).agg(pl.col(names.EXTENDED_PRICE).sum())
    meals_ = generated.meal_counts.group_by(names.DISTRICT_ID).agg(pl.col(names.MEALS).sum())
    per_meal = spend.join(meals_, on=names.DISTRICT_ID).with_columns(
        (pl.col(names.EXTENDED_PRICE) / pl.col(names.MEALS)).alias("per_meal")
    )
    # the paper's $1.84 non-local meal cost, raised by local premiums and price drift, lowered by unbought need
    assert per_meal["per_meal"].min() > 1.6
    assert per_meal["per_meal"].max() < 2.4


def test_route_price_ratios_match_the_papers_table_3(generated):
    lines = generated.all_purchases.with_columns(
        pl.col(names.INVOICE_DATE).dt.year().alias("y"), pl.col(names.INVOICE_DATE).dt.month().alias("m")
    )
    registry = generated.vendors.select(names.VENDOR_NAME, pl.col(names.VENDOR_TYPE).alias("reg_type"))
    lines = lines.join(registry, on=names.VENDOR_NAME)
    far = ~pl.col(names.ORIGIN_STATE).is_in(["MN", "WI", "IA", "SD", "NE"]) & pl.col(names.ORIGIN_STATE).is_not_null()
    baseline = (
        lines.filter((pl.col("reg_type") == "broadline_distributor") & far)
        .group_by(names.PRODUCT, "y", "m")
        .agg(pl.col(names.UNIT_PRICE).median().alias("base"))
    )
    home = pl.col(names.ORIGIN_STATE).is_in(["MN", "WI", "IA"])
    groups = {
        names.DIRECT_LOCAL: pl.col("reg_type").is_in(DIRECT),
        names.NONTRADITIONAL_LOCAL: pl.col("reg_type").is_in(NONTRAD) & home,
        names.TRADITIONAL_LOCAL: (pl.col("reg_type") == "broadline_distributor") & home,
    }
    desc = {i.farm_description: i.description for i in sample.ITEMS}
    lines = lines.with_columns(pl.col(names.PRODUCT).replace(desc))
    for route, where in groups.items():
        ratio = (
            lines.filter(where)
            .join(baseline, on=[names.PRODUCT, "y", "m"])
            .select((pl.col(names.UNIT_PRICE) / pl.col("base")).median())
            .item()
        )
        paper = PAPER_COST_PER_MEAL[route] / 1.84
        assert ratio == pytest.approx(paper, abs=0.03), route
    assert PAPER_RATIO[names.DIRECT_LOCAL] == pytest.approx(2.28 / 1.84)
    assert PAPER_RATIO[names.NONTRADITIONAL_LOCAL] == pytest.approx(2.45 / 1.84)


def test_load_bundled_set_zero_rejects_then_noop(loaded):
    path, first = loaded
    assert first["already_loaded"] is False
    assert first["rows_rejected"] == 0
    assert first["rows_loaded"] >= 20_000
    assert first["districts"] == 7
    assert first["vendors"] == len(sample.VENDORS)
    assert first["meal_counts"] == 7 * 24
    assert first["contracts"] > 0
    assert all(b["rows_rejected"] == 0 and b["batch_id"] is not None for b in first["batches"])
    con = db.connect(path)
    try:
        before = con.execute(f"SELECT count(*), sum({names.EXTENDED_PRICE}) FROM {names.PURCHASES}").fetchall()
        batches = con.execute(f"SELECT count(*) FROM {names.BATCHES}").fetchall()
        assert before[0][0] == first["rows_loaded"]
        second = sample.load(con)
        assert second["already_loaded"] is True
        assert second["rows_loaded"] == 0
        assert "already loaded" in second["message"]
        assert [b["already_loaded_as"] for b in second["batches"]] == [b["batch_id"] for b in first["batches"]]
        assert con.execute(f"SELECT count(*), sum({names.EXTENDED_PRICE}) FROM {names.PURCHASES}").fetchall() == before
        assert con.execute(f"SELECT count(*) FROM {names.BATCHES}").fetchall() == batches
        # inference was exercised: some lines classified by rule, not by the file
        rules = con.execute(
            f"SELECT count(*) FROM {names.PURCHASES} WHERE {names.UNPROCESSED_RULE} <> 'file'"
        ).fetchall()
        assert rules[0][0] > 500
    finally:
        con.close()


def test_loaded_routes_seasonality_and_disagreeing_definitions(loaded):
    path, _ = loaded
    lines = _lines_with_locality(path)
    # all four routes for the co-op, and local spend through at least three routes in every district
    assert set(lines[names.ROUTE]) == set(names.ROUTES)
    per_district = lines.filter(pl.col(local.LOCAL)).group_by(names.DISTRICT_ID).agg(pl.col(names.ROUTE).n_unique())
    assert per_district.height == 7
    assert per_district[names.ROUTE].min() >= 3
    # known and unknown origins both occur among lines
    assert lines.filter(pl.col(local.UNKNOWN_ORIGIN)).height > 1000
    assert lines.filter(pl.col(local.LOCAL) & pl.col(names.ORIGIN_ZIP).is_not_null()).height > 1000
    # one farm, three answers: Hilltop Orchard (Gays Mills WI) is local for Riverbend (MN;WI) and Driftless
    # (39 miles, 150-mile radius), not for Cedar Valley (IA only, though 96 miles away)
    hilltop = (
        lines.filter(pl.col(names.VENDOR_NAME) == "Hilltop Orchard")
        .group_by(names.DISTRICT_ID)
        .agg(pl.col(local.LOCAL).all().alias("all_local"), pl.col(local.LOCAL).any().alias("any_local"))
    )
    answers = {r[names.DISTRICT_ID]: (r["all_local"], r["any_local"]) for r in hilltop.to_dicts()}
    assert answers == {"riverbend": (True, True), "driftless": (True, True), "cedar_valley": (False, False)}
    # Missouri Bottoms Farm (Omaha NE) is 4 miles from Loess Hills, which has no definition: own state only
    bottoms = lines.filter(pl.col(names.VENDOR_NAME) == "Missouri Bottoms Farm")
    assert bottoms.height > 0 and not bottoms[local.LOCAL].any()
    assert set(bottoms[names.ROUTE]) == {names.TRADITIONAL_NONLOCAL}
    # seasonality: local share of produce spend peaks August-October
    produce = lines.filter(pl.col(names.CATEGORY).is_in(["fruit", "vegetable"])).with_columns(
        pl.col(names.INVOICE_DATE).dt.month().alias("m")
    )

    def share(months):
        part = produce.filter(pl.col("m").is_in(months))
        return part.filter(pl.col(local.LOCAL))[names.EXTENDED_PRICE].sum() / part[names.EXTENDED_PRICE].sum()

    assert share([8, 9, 10]) > 2 * share([1, 2, 3])


def test_planted_split_purchase_and_contracted_milk(generated):
    lines = generated.all_purchases
    invoices = (
        lines.group_by(names.DISTRICT_ID, names.VENDOR_NAME, names.INVOICE_NO, names.INVOICE_DATE)
        .agg(pl.col(names.EXTENDED_PRICE).sum().alias("amount"))
        .sort(names.INVOICE_DATE)
    )
    split = invoices.filter(pl.col(names.VENDOR_NAME) == sample.SPLIT_VENDOR)
    assert split[names.DISTRICT_ID].unique().to_list() == [sample.SPLIT_DISTRICT]
    assert split.height == 3
    assert (split["amount"] < 10_000).all()
    assert split["amount"].sum() == pytest.approx(19_270.00, abs=0.005)
    assert split[names.INVOICE_DATE].max() - split[names.INVOICE_DATE].min() <= timedelta(days=30)
    contracts = generated.contracts
    assert contracts.filter(pl.col(names.VENDOR_NAME) == sample.SPLIT_VENDOR).height == 0
    milk = invoices.filter(
        (pl.col(names.DISTRICT_ID) == sample.MILK_CONTRACT_DISTRICT)
        & (pl.col(names.VENDOR_NAME) == sample.MILK_CONTRACT_VENDOR)
    )
    gaps = milk[names.INVOICE_DATE].diff().drop_nulls().dt.total_days()
    assert milk.height > 80 and gaps.median() == 7
    # the pattern a naive split rule would flag: invoices under $10,000 adding up past it within 30 days
    under = milk.filter(pl.col("amount") < 10_000)
    window = under.rolling(names.INVOICE_DATE, period="30d").agg(pl.col("amount").sum().alias("sum30"))
    assert (window["sum30"] > 10_000).any()
    formal = contracts.filter(
        (pl.col(names.DISTRICT_ID) == sample.MILK_CONTRACT_DISTRICT)
        & (pl.col(names.VENDOR_NAME) == sample.MILK_CONTRACT_VENDOR)
    )
    assert formal["method"].to_list() == ["formal", "formal"]


def test_write_lines_is_canonical_and_loads(tmp_path):
    out = sample.write_lines(1_200, tmp_path / "big.csv", district_id="driftless")
    frame = pl.read_csv(out, infer_schema_length=0)
    assert frame.height == 1_200
    assert tuple(frame.columns) == sample.PURCHASE_COLUMNS
    assert frame[names.DISTRICT_ID].unique().to_list() == ["driftless"]
    q, p, e = (frame[c].cast(pl.Float64) for c in (names.QUANTITY, names.UNIT_PRICE, names.EXTENDED_PRICE))
    assert ((e - q * p).abs() <= 0.005 + 1e-9).all()
    con = db.connect(tmp_path / "coop.duckdb")
    try:
        from coop.registry import districts, vendors

        districts.upsert(con, sample.district_frame())
        vendors.upsert(con, sample.vendor_frame())
        result = ingest_file(con, out, district_id="driftless")
        assert result.rows_loaded == 1_200 and result.rows_rejected == 0
    finally:
        con.close()


def test_cli_sample_rows_out_and_load(tmp_path, capsys):
    out = tmp_path / "lines.csv"
    db_path = tmp_path / "coop.duckdb"
    assert cli.main(["sample", "--rows", "500", "--out", str(out), "--db", str(db_path), "--json"]) == 0
    assert '"rows": 500' in capsys.readouterr().out
    assert pl.read_csv(out).height == 500
    assert cli.main(["sample", "--rows", "500", "--db", str(db_path), "--json"]) == 1
    assert "--rows and --out go together" in capsys.readouterr().err


def test_rules_find_the_planted_split_and_not_the_contracted_milk(loaded):
    from coop.rules import splits

    path, first = loaded
    assert first["contracts"] == sample.contract_frame().height
    con = db.connect(path)
    try:
        found = splits.split_purchases_from_db(con)
    finally:
        con.close()
    pairs = set(found.select(names.DISTRICT_ID, names.VENDOR_NAME).unique().iter_rows())
    assert pairs == {(sample.SPLIT_DISTRICT, sample.SPLIT_VENDOR)}
    assert set(found[names.INVOICE_NO]) == {invoice_no for _, invoice_no, _ in sample.SPLIT_INVOICES}
    assert found[names.EXTENDED_PRICE].sum() == pytest.approx(19_270.00, abs=0.005)
