import polars as pl
import pytest
from fixtures_metrics import DISTRICTS, LINES, districts_frame, lines_frame

from coop import names
from coop.metrics import local
from coop.registry import geo


def classify(lines=LINES, districts=DISTRICTS) -> pl.DataFrame:
    frame = lines_frame(lines).lazy()
    out = local.with_route(local.with_locality(frame, districts_frame(districts).lazy())).collect()
    return out


def by_line(out: pl.DataFrame) -> dict[int, dict]:
    return {row[names.SOURCE_ROW] - 1: row for row in out.to_dicts()}


def test_keeps_every_line_in_order():
    out = classify()
    assert out.height == len(LINES)
    assert out[names.SOURCE_ROW].to_list() == [r[0] + 1 for r in LINES]


def test_two_districts_disagree_about_the_same_farm():
    rows = by_line(classify())
    # Crowley Farm (81062) is ~121 miles from Denver 80202
    wide, narrow = rows[1], rows[6]
    assert wide[local.DISTANCE_MILES] == pytest.approx(120.96, abs=0.05)
    assert narrow[local.DISTANCE_MILES] == pytest.approx(wide[local.DISTANCE_MILES])
    assert wide[local.LOCAL] is True and wide[local.LOCAL_BASIS] == local.BASIS_RADIUS
    assert wide[names.ROUTE] == names.DIRECT_LOCAL
    assert narrow[local.LOCAL] is False and narrow[local.LOCAL_BASIS] is None
    # a farm's line that is not local is traditional_nonlocal: the route follows origin, not vendor type
    assert narrow[names.ROUTE] == names.TRADITIONAL_NONLOCAL


def test_each_basis():
    rows = by_line(classify())
    expected = {
        1: (True, local.BASIS_RADIUS),
        2: (False, None),  # Washington apples
        3: (True, local.BASIS_RADIUS),  # distributor selling Weld carrots: origin zip only, 47 miles
        4: (False, None),  # origin CO by state only: a radius needs a ZIP
        5: (False, local.BASIS_UNKNOWN),
        9: (False, None),  # Crowley County is not in county's list
        10: (True, local.BASIS_COUNTIES),  # Laramie County, WY, from the origin ZIP 82001
        11: (True, local.BASIS_COUNTIES),  # Weld, the district's own state
        12: (False, None),
        15: (True, local.BASIS_STATES),  # origin_state 'nm' in lower case
        16: (False, None),
        17: (True, local.BASIS_OWN_STATE),  # plain has no definition: own state CO
        18: (False, None),  # Wyoming
    }
    for n, (is_local, basis) in expected.items():
        assert (rows[n][local.LOCAL], rows[n][local.LOCAL_BASIS]) == (is_local, basis), n


def test_unknown_origin_only_when_no_zip_and_no_state():
    rows = by_line(classify())
    unknown = {n for n, r in rows.items() if r[local.UNKNOWN_ORIGIN]}
    assert unknown == {5}
    assert rows[5][names.ROUTE] == names.TRADITIONAL_NONLOCAL
    assert rows[5][local.DISTANCE_MILES] is None


def test_unknown_zip_without_state_is_unknown_origin():
    line = (1, "wide", "2024-01-01", "Farm", "producer", "kale", "vegetable", 1.0, "lb", "1.00", None, "99999")
    row = classify([line]).row(0, named=True)
    assert row[local.UNKNOWN_ORIGIN] is True and row[local.LOCAL] is False


def test_unknown_zip_with_state_uses_the_state():
    line = (1, "nm", "2024-01-01", "Farm", "producer", "kale", "vegetable", 1.0, "lb", "1.00", "NM", "99999")
    row = classify([line]).row(0, named=True)
    assert row[local.UNKNOWN_ORIGIN] is False
    assert row[local.LOCAL_BASIS] == local.BASIS_STATES


def test_radius_is_inclusive():
    miles = pl.select(geo.haversine_miles(pl.lit(39.7491), pl.lit(-104.9946), pl.lit(38.2019), pl.lit(-103.941))).item()
    line = (1, "edge", "2024-01-01", "Crowley Farm", "producer", "apples", "fruit", 1.0, "lb", "1.00", "CO", "81062")
    at = classify([line], [("edge", "80202", "CO", miles, None, None)]).row(0, named=True)
    below = classify([line], [("edge", "80202", "CO", miles - 0.01, None, None)]).row(0, named=True)
    assert at[local.LOCAL] is True
    assert below[local.LOCAL] is False


def test_definitions_are_alternatives():
    line = (1, "mixed", "2024-01-01", "Crowley Farm", "producer", "apples", "fruit", 1.0, "lb", "1.00", "CO", "81062")
    row = classify([line], [("mixed", "80202", "CO", 50.0, ["CO"], None)]).row(0, named=True)
    assert row[local.LOCAL_BASIS] == local.BASIS_STATES
    # own state does not apply once a district has any definition
    row = classify([line], [("mixed", "80202", "CO", 50.0, None, None)]).row(0, named=True)
    assert row[local.LOCAL] is False


def test_duplicate_list_entries_do_not_duplicate_lines():
    line = (1, "nm", "2024-01-01", "Hub", "food_hub", "chile", "vegetable", 1.0, "lb", "1.00", "NM", None)
    out = classify([line], [("nm", "87501", "NM", None, ["NM", "nm", " NM "], ["Santa Fe", "Santa Fe County"])])
    assert out.height == 1
    assert out.row(0, named=True)[local.LOCAL_BASIS] == local.BASIS_STATES


def test_unregistered_district_is_not_local():
    line = (1, "ghost", "2024-01-01", "Farm", "producer", "kale", "vegetable", 1.0, "lb", "1.00", "CO", "80202")
    row = classify([line]).row(0, named=True)
    assert row[local.LOCAL] is False and row[local.UNKNOWN_ORIGIN] is False


@pytest.mark.parametrize(
    ("vendor_type", "route"),
    [(t, names.DIRECT_LOCAL) for t in names.DIRECT_VENDOR_TYPES]
    + [(t, names.NONTRADITIONAL_LOCAL) for t in names.NONTRADITIONAL_VENDOR_TYPES]
    + [(t, names.TRADITIONAL_LOCAL) for t in names.TRADITIONAL_VENDOR_TYPES],
)
def test_route_of_each_vendor_type(vendor_type, route):
    frame = pl.LazyFrame({names.VENDOR_TYPE: [vendor_type, vendor_type], local.LOCAL: [True, False]})
    out = local.with_route(frame).collect()[names.ROUTE].to_list()
    assert out == [route, names.TRADITIONAL_NONLOCAL]


def test_route_covers_every_vendor_type():
    assert set(names.DIRECT_VENDOR_TYPES + names.NONTRADITIONAL_VENDOR_TYPES + names.TRADITIONAL_VENDOR_TYPES) == set(
        names.VENDOR_TYPES
    )
