"""ZIP-code centroids (from the `zipcodes` package, no network) and great-circle distances in miles."""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final

import polars as pl
import zipcodes

EARTH_RADIUS_MILES = 3958.8
GEO_ZIP = "geo_zip"
GEO_LAT = "geo_lat"
GEO_LON = "geo_lon"
GEO_STATE = "geo_state"
GEO_COUNTY = "geo_county"
# USPS state and territory codes (USPS Publication 28, Appendix B), with their source: usps_states.csv
_STATES_FILE = "usps_states.csv"
USPS_STATES: frozenset[str] = frozenset(
    pl.read_csv(resources.files("coop.registry").joinpath(_STATES_FILE).read_bytes(), comment_prefix="#",
                infer_schema=False)["code"].to_list()
)  # fmt: skip
# Suffixes a county name may carry in the zipcodes data or in a district's list ("Weld County" == "Weld").
_COUNTY_SUFFIX = r"\s+(city and borough|county|parish|borough|census area|municipality|municipio)$"


def _cache_file() -> Path:
    """Where the built ZIP table is cached (per zipcodes version): $COOP_CACHE, else $XDG_CACHE_HOME/coop."""
    root = os.environ.get("COOP_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "coop"
    return Path(root) / f"zipcodes-{zipcodes.__version__}.parquet"


def _build_zip_table() -> pl.DataFrame:
    """The ZIP table built from the zipcodes package's own data (about a second)."""
    rows = [
        (z["zip_code"], z["lat"], z["long"], z["state"], z["county"])
        for z in zipcodes.list_all()
        if z["lat"] and z["long"] and z["state"]
    ]
    frame = pl.DataFrame(rows, schema=[GEO_ZIP, GEO_LAT, GEO_LON, GEO_STATE, "county_name"], orient="row").with_columns(
        pl.col(GEO_LAT).cast(pl.Float64, strict=False),
        pl.col(GEO_LON).cast(pl.Float64, strict=False),
    )
    return (
        frame.filter(pl.col(GEO_LAT).is_not_null() & pl.col(GEO_LON).is_not_null())
        .with_columns(county_key(pl.col("county_name"), pl.col(GEO_STATE)).alias(GEO_COUNTY))
        .drop("county_name")
        .unique(GEO_ZIP, keep="first", maintain_order=True)
    )


@cache
def zip_table() -> pl.DataFrame:
    """One row per 5-digit ZIP: geo_zip, geo_lat, geo_lon (degrees), geo_state, geo_county (county key)."""
    path = _cache_file()
    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError):
        pass
    table = _build_zip_table()
    try:  # a cache only: a read-only home just means building it again next time
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        table.write_parquet(partial)
        partial.replace(path)
    except OSError:
        pass
    return table


def normalise_zip(expr: pl.Expr) -> pl.Expr:
    """A ZIP text expression as 5 digits (ZIP+4 cut, leading zeros lost by spreadsheets restored), else null."""
    digits = expr.cast(pl.String).str.strip_chars().str.extract(r"^(\d{3,5})(?:-\d{4})?$", 1)
    return digits.str.zfill(5)


def zip_states(text: pl.Series) -> pl.Series:
    """The state of each ZIP text (5 digits or ZIP+4; dropped leading zeros restored); null where not a known ZIP."""
    frame = pl.DataFrame({"_z": text.cast(pl.String)}).with_columns(normalise_zip(pl.col("_z")).alias(GEO_ZIP))
    states = zip_table().select(GEO_ZIP, GEO_STATE)
    return frame.join(states, on=GEO_ZIP, how="left", maintain_order="left")[GEO_STATE].rename(text.name)


def county_key(county: pl.Expr, default_state: pl.Expr) -> pl.Expr:
    """Key `ST|name` for a county written `Name`, `Name County` or `Name[ County], ST` (state defaults)."""
    text = county.str.strip_chars()
    qualified = text.str.extract(r",\s*([A-Za-z]{2})$", 1).str.to_uppercase()
    name = (
        text.str.replace(r",\s*[A-Za-z]{2}$", "")
        .str.strip_chars()
        .str.to_lowercase()
        .str.replace(_COUNTY_SUFFIX, "")
        .str.replace_all(r"\.", "")
        .str.replace_all(r"\s+", " ")
    )
    return pl.concat_str([pl.coalesce(qualified, default_state.str.to_uppercase()), name], separator="|")


def haversine_miles(lat1: pl.Expr, lon1: pl.Expr, lat2: pl.Expr, lon2: pl.Expr) -> pl.Expr:
    """Great-circle distance in miles between two points given in degrees (null if any is null)."""
    p1, p2 = lat1.radians(), lat2.radians()
    dlat = p2 - p1
    dlon = (lon2 - lon1).radians()
    a = (dlat / 2).sin().pow(2) + p1.cos() * p2.cos() * (dlon / 2).sin().pow(2)
    return 2 * EARTH_RADIUS_MILES * a.sqrt().clip(upper_bound=1.0).arcsin()


def lookup(zip_code: str) -> dict[str, object] | None:
    """The centroid row of one ZIP code as a dict, or None when the ZIP is unknown."""
    frame = pl.DataFrame({"z": [zip_code]}).select(normalise_zip(pl.col("z")).alias(GEO_ZIP))
    hit = frame.join(zip_table(), on=GEO_ZIP, how="inner")
    return hit.row(0, named=True) if hit.height else None


# --- countries (ISO 3166-1, from the `pycountry` package) --------------------------------------------------------
# Where "the United States" is for Buy American: 7 CFR 210.2 ("State": the 50 states, DC, Puerto Rico, the U.S.
# Virgin Islands, Guam, American Samoa and the Northern Mariana Islands), as ISO 3166-1 alpha-2 codes.
US_COUNTRY: Final = "US"
DOMESTIC_COUNTRIES: Final = frozenset({US_COUNTRY, "PR", "VI", "GU", "AS", "MP"})
DOMESTIC_SOURCE: Final = "7 CFR 210.2 (State: the 50 states, DC, PR, VI, GU, AS, MP); 7 CFR 210.21(d)(1)"


@cache
def country_code(text: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country given by code (MX, MEX) or name ('Mexico', 'Viet Nam'), else None."""
    import pycountry

    cleaned = text.strip().replace(".", "")  # 'U.S.A.' -> 'USA'
    if not cleaned:
        return None
    try:  # codes, names, official and common names, any case (pycountry's lookup); no fuzzy guesses
        found = pycountry.countries.lookup(cleaned)
    except LookupError:
        return None
    return str(found.alpha_2)


def country_codes(text: pl.Series) -> pl.Series:
    """The ISO alpha-2 code of each country text (null where not a country), looked up once per distinct text."""
    return text.cast(pl.String).map_elements(country_code, return_dtype=pl.String, skip_nulls=True).rename(text.name)


def country_name(code: str) -> str:
    """A country's common name from its alpha-2 code ('MX' -> 'Mexico'); the code itself when unknown."""
    import pycountry

    found = pycountry.countries.get(alpha_2=code)
    if found is None:
        return code
    return str(getattr(found, "common_name", None) or found.name)
