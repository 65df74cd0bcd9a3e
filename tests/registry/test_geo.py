import polars as pl
import pytest

from coop.registry import geo


def test_zip_table_has_centroids_state_and_county_key():
    table = geo.zip_table()
    assert table.height > 40_000
    assert table[geo.GEO_ZIP].is_unique().all()
    denver = geo.lookup("80202")
    assert denver is not None
    assert denver[geo.GEO_STATE] == "CO"
    assert denver[geo.GEO_COUNTY] == "CO|denver"
    assert denver[geo.GEO_LAT] == pytest.approx(39.7491)
    assert denver[geo.GEO_LON] == pytest.approx(-104.9946)


def test_zip_table_is_built_once():
    assert geo.zip_table() is geo.zip_table()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("80202", "80202"), (" 80202-1234 ", "80202"), ("2134", "02134"), ("501", "00501"), ("abcde", None), ("", None)],
)
def test_normalise_zip(raw, expected):
    out = pl.select(geo.normalise_zip(pl.lit(raw, dtype=pl.String))).item()
    assert out == expected


def test_unknown_zip_is_none():
    assert geo.lookup("99999") is None


@pytest.mark.parametrize(
    ("county", "state", "key"),
    [
        ("Weld", "CO", "CO|weld"),
        ("Weld County", "CO", "CO|weld"),
        ("  weld county ", "co", "CO|weld"),
        ("Laramie County, WY", "CO", "WY|laramie"),
        ("St. Louis County", "MO", "MO|st louis"),
        ("Orleans Parish", "LA", "LA|orleans"),
    ],
)
def test_county_key(county, state, key):
    assert pl.select(geo.county_key(pl.lit(county), pl.lit(state))).item() == key


def test_haversine_hand_values():
    # one degree of latitude along a meridian = R * pi / 180 miles
    one_degree = pl.select(geo.haversine_miles(pl.lit(40.0), pl.lit(-105.0), pl.lit(41.0), pl.lit(-105.0))).item()
    assert one_degree == pytest.approx(geo.EARTH_RADIUS_MILES * 3.141592653589793 / 180)
    # a quarter of the equator
    quarter = pl.select(geo.haversine_miles(pl.lit(0.0), pl.lit(0.0), pl.lit(0.0), pl.lit(90.0))).item()
    assert quarter == pytest.approx(geo.EARTH_RADIUS_MILES * 3.141592653589793 / 2)
    same = pl.select(geo.haversine_miles(pl.lit(39.7), pl.lit(-105.0), pl.lit(39.7), pl.lit(-105.0))).item()
    assert same == pytest.approx(0.0, abs=1e-9)


def test_haversine_is_vectorised_and_null_safe():
    frame = pl.DataFrame({"lat": [39.7491, None], "lon": [-104.9946, -104.0]})
    out = frame.select(geo.haversine_miles(pl.col("lat"), pl.col("lon"), pl.lit(38.2019), pl.lit(-103.941)))
    # Denver 80202 to Crowley County 81062: about 121 miles (checked against zipcodes.haversine)
    assert out.to_series()[0] == pytest.approx(120.96, abs=0.05)
    assert out.to_series()[1] is None


def test_cached_table_equals_a_fresh_build(tmp_path, monkeypatch):
    monkeypatch.setenv("COOP_CACHE", str(tmp_path))
    geo.zip_table.cache_clear()
    try:
        built = geo.zip_table()
        assert geo._cache_file().parent == tmp_path and geo._cache_file().exists()
        geo.zip_table.cache_clear()
        cached = geo.zip_table()
        assert cached.equals(built)
        assert cached.equals(geo._build_zip_table())
    finally:
        geo.zip_table.cache_clear()


def test_zip_states_per_zip_text():
    text = pl.Series("z", ["01060", "01060-1234", "1035", "99999", "Lynn", None, "96910"])
    assert geo.zip_states(text).to_list() == ["MA", "MA", "MA", None, None, None, "GU"]
    assert geo.zip_states(text).name == "z"


def test_usps_states_cover_every_state_of_the_zip_table():
    assert set(geo.zip_table()[geo.GEO_STATE].unique()) <= geo.USPS_STATES
    assert {"MA", "DC", "PR", "GU", "AE"} <= geo.USPS_STATES and "XX" not in geo.USPS_STATES


def test_countries_by_code_or_name_and_which_count_as_domestic():
    from coop.registry import geo

    assert [geo.country_code(t) for t in ("MX", "mex", "Mexico", "Viet Nam", "Vietnam", "U.S.A.", "Atlantis", " ")] == [
        "MX",
        "MX",
        "MX",
        "VN",
        "VN",
        "US",
        None,
        None,
    ]
    assert geo.country_name("VN") == "Vietnam" and geo.country_name("EC") == "Ecuador"
    assert {"US", "PR", "GU"} <= geo.DOMESTIC_COUNTRIES and "CA" not in geo.DOMESTIC_COUNTRIES  # CA is Canada here
