"""Real periodic series that ship inside small packages (nothing is downloaded)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["REAL_SERIES", "air_passengers", "co2_weekly", "pmdarima_dataset", "real_series", "seattle_temps",
           "sf_temps", "statsmodels_dataset", "sunspots_yearly", "taylor_demand"]


def sf_temps() -> pd.Series:
    """Hourly air temperature in San Francisco during 2010 (°F), 8759 values.

    Read from the CSV file inside the ``vega_datasets`` package (``local_data``, never
    the network). Index: the hourly timestamps (one hour is missing at the spring
    daylight-saving change). A 24-hour cycle on top of weather and seasons.

    Example:

    >>> s = sf_temps()
    >>> len(s), s.name, str(s.index[0])
    (8759, 'temp_f', '2010-01-01 00:00:00')
    """
    try:
        from vega_datasets import local_data
    except ImportError:
        raise ImportError("sf_temps needs the vega_datasets package: pip install vega_datasets") from None
    df = local_data.sf_temps()
    return pd.Series(df["temp"].to_numpy(float), index=pd.to_datetime(df["date"]), name="temp_f")


def seattle_temps() -> pd.Series:
    """Hourly air temperature in Seattle during 2010 (°F), 8759 values, from ``vega_datasets``.

    >>> len(seattle_temps())
    8759
    """
    from vega_datasets import local_data

    df = local_data.seattle_temps()
    return pd.Series(df["temp"].to_numpy(float), index=pd.to_datetime(df["date"]), name="temp_f")


def statsmodels_dataset(name: str):
    """The pandas frame of ``statsmodels.datasets.<name>`` (data inside the package, offline)."""
    try:
        from statsmodels import datasets
    except ImportError:
        raise ImportError(f"{name} needs statsmodels (its data ship inside the package): "
                          "pip install 'periodic-keras[real]'") from None
    return getattr(datasets, name).load_pandas().data


def co2_weekly(raw: bool = False) -> pd.Series:
    """Weekly atmospheric CO2 at Mauna Loa (ppm), 1958–2001, from ``statsmodels`` (offline).

    The 59 missing weeks are filled by linear interpolation, or left NaN with ``raw=True``.
    A yearly cycle (52.18 weeks) on a strong upward trend; the index is weekly dates.
    """
    data = statsmodels_dataset("co2")["co2"]
    return (data if raw else data.interpolate(limit_direction="both")).rename("co2_ppm")


def sunspots_yearly() -> pd.Series:
    """Yearly sunspot numbers, 1700–2008, from ``statsmodels`` (offline): an ~11-year cycle."""
    data = statsmodels_dataset("sunspots")
    return pd.Series(data["SUNACTIVITY"].to_numpy(float), index=data["YEAR"].astype(int).to_numpy(),
                     name="sunspots")


def pmdarima_dataset(name: str) -> pd.Series:
    """``pmdarima.datasets.load_<name>`` as a Series (data embedded in the package, offline)."""
    try:
        from pmdarima import datasets
    except ImportError:
        raise ImportError(f"{name} needs pmdarima (its data ship inside the package): "
                          "pip install 'periodic-keras[bench]'") from None
    return getattr(datasets, f"load_{name}")(as_series=True)


def taylor_demand() -> pd.Series:
    """Half-hourly electricity demand in England and Wales (MW), 12 weeks from Monday 5 June
    2000, 4032 values, from ``pmdarima`` (embedded in the package): daily and weekly cycles."""
    data = pmdarima_dataset("taylor")
    return pd.Series(data.to_numpy(float), index=pd.date_range("2000-06-05", periods=len(data), freq="30min"),
                     name="demand_mw")


def air_passengers() -> pd.Series:
    """Monthly international airline passengers (thousands), 1949–1960, 144 values, from
    ``pmdarima``: a yearly cycle that grows with the trend (multiplicative)."""
    data = pmdarima_dataset("airpassengers")
    return pd.Series(data.to_numpy(float), index=pd.period_range("1949-01", periods=len(data), freq="M"),
                     name="passengers")


#: Real series for frequency windows: loader and the step between windows cut from it.
REAL_SERIES = {"sf_temps (hourly)": (sf_temps, 25), "seattle_temps (hourly)": (seattle_temps, 25),
               "co2 (weekly)": (co2_weekly, 10), "sunspots (yearly)": (sunspots_yearly, 1)}


def real_series(window: int = 100, names=None) -> dict:
    """Windows of ``window`` samples cut from the real series in :data:`REAL_SERIES`.

    Returns ``{name: windows [k, window] float64}``; series whose package is missing are
    left out (the others still come back). ``names`` picks some of them.
    """
    out = {}
    for name in REAL_SERIES if names is None else names:
        loader, stride = REAL_SERIES[name]
        try:
            values = loader().to_numpy(np.float64)
        except ImportError:
            continue
        starts = range(0, len(values) - window + 1, stride)
        out[name] = np.stack([values[s:s + window] for s in starts])
    return out
