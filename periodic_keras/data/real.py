"""Real periodic series that ship inside small packages (nothing is downloaded)."""

from __future__ import annotations

import pandas as pd

__all__ = ["sf_temps"]


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
