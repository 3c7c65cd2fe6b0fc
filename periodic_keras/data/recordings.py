"""Real recordings with a fundamental-frequency truth, cut into frequency-model windows (evaluation only).

The files ship inside pip wheels and are read from the installed package's directory (found with
``importlib.util.find_spec``, without importing the package): nothing is downloaded at run time.
Each window is resampled from the recording (windowed-sinc interpolation, Kaiser window, 8 zero
crossings, low-pass at 0.45 x the lower of the two rates, so nothing aliases) at a rate chosen
per window so that its truth is a random number of cycles per window in ``[fmin, fmax]``.

Truths:

* ``instrument_notes``: recorded notes of the General-MIDI SoundFont ``TimGM6mb.sf2`` shipped by
  ``pretty_midi``. f0 of a sample = 440 * 2**((root - 69 - coarse - fine/100 - correction/100) / 12)
  Hz: ``root`` is the instrument zone's overridingRootKey (else the sample header's
  byOriginalPitch), ``coarse``/``fine`` the zone's tuning and ``correction`` the header's
  chPitchCorrection, which SoundFont 2.04 defines as the correction applied on playback (a note
  4 cents sharp has -4), hence its minus sign. The file's own metadata, then checked: a sample is
  kept only if it is used by a pitched General-MIDI program (bank 0..127, program 0..111: no drum
  kits, percussion or sound effects), its zones agree within 50 cents, and a YIN estimate of its
  sustained part (from the end of the attack, where the 5 ms RMS first reaches 70 % of its peak,
  to where it last exceeds 10 %) lies within 50 cents of the truth. Up to 4 windows per note, at
  one rate per note, non-overlapping. Licence: TimGM6mb by Tim Brechbill, GPL-2.0 (as distributed
  with MuseScore; the file has no copyright field); pretty_midi itself is MIT.
* ``ecg_bitalino``: ``pyhrv/files/SampleECG.txt`` (BITalino, 1000 Hz, 22 s; pyhrv is BSD-3).
* ``ppg_heartpy``: ``heartpy/data/data{,2,3}.csv`` (finger PPG at 100, 117 and ~100.4 Hz; 25 s,
  128 s, 11 min). heartpy's METADATA and README say GPL-3 (its LICENSE file says MIT): treat as GPL-3.

  Heart-rate truth: beats are detected (FFT band-pass, 5-20 Hz for ECG then squared derivative
  smoothed over 100 ms; 0.5-5 Hz for PPG; a beat is the largest value within +-0.25 s that is above
  40 % of the 95th percentile). An RR interval is valid if it lies in 0.3-2.0 s (30-200 bpm) and
  within 30 % of the median of its 5 neighbours. The beat phase is 0, 1, 2, ... at the beats and
  linear between them; a window's truth is the phase advance across it (beats per window), which
  equals the window's mean instantaneous heart rate 1/RR times its duration. Windows must lie
  between valid beats only. Windows start at random points (one per beat) and overlap.
"""

from __future__ import annotations

import functools

import importlib.util
import os
import re

import numpy as np
import pandas as pd

__all__ = ["RECORDINGS", "recording_sets", "recording_windows", "read_sf2"]

RECORDINGS = {
    "instrument_notes": {"description": "recorded instrument notes of the General-MIDI SoundFont TimGM6mb.sf2",
                         "package": "pretty_midi", "files": ["TimGM6mb.sf2"],
                         "licence": "GPL-2.0 (TimGM6mb, Tim Brechbill); pretty_midi MIT"},
    "ecg_bitalino": {"description": "BITalino ECG, 1000 Hz, 22 s; truth: detected R peaks",
                     "package": "pyhrv", "files": ["files/SampleECG.txt"], "licence": "BSD-3-Clause (pyhrv)"},
    "ppg_heartpy": {"description": "finger PPG, three recordings; truth: detected pulse peaks",
                    "package": "heartpy", "files": ["data/data.csv", "data/data2.csv", "data/data3.csv"],
                    "licence": "GPL-3.0 (heartpy metadata; its LICENSE file says MIT)"},
}

_NOTES_PER_SAMPLE = 4
_AGREE_CENTS = 50.0


def _data_file(name: str, relpath: str) -> str:
    pkg = RECORDINGS[name]["package"]
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"recording {name!r} needs the {pkg} package (its data ship inside it): "
                          f"pip install 'periodic-keras[recordings]' (or pip install {pkg})")
    for root in spec.submodule_search_locations:
        path = os.path.join(root, relpath)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"{pkg} is installed but has no {relpath}")


# ---------------------------------------------------------------- resampling

def _resample_at(x: np.ndarray, sr: float, t0: float, rate: float, n: int) -> np.ndarray:
    """``n`` values at times ``t0 + j / rate`` (s) of the band-limited signal ``x`` sampled at ``sr``.

    Windowed-sinc interpolation (Kaiser, beta 8, 8 zero crossings each side) with its cut-off at
    0.45 * min(sr, rate): an anti-alias low-pass when ``rate < sr``. Reads beyond the ends of
    ``x`` are mirrored.
    """
    fc = 0.45 * min(1.0, rate / sr)  # cycles per input sample
    half = int(np.ceil(8 / (2 * fc)))
    pos = t0 * sr + np.arange(n) * (sr / rate)
    base = np.floor(pos).astype(np.int64)
    idx = base[:, None] + np.arange(-half, half + 1)[None, :]
    d = pos[:, None] - idx
    taper = np.i0(8.0 * np.sqrt(np.clip(1 - (d / (half + 1)) ** 2, 0, 1))) / np.i0(8.0)  # Kaiser
    h = 2 * fc * np.sinc(2 * fc * d) * taper
    m = len(x) - 1
    idx = np.abs(idx)
    idx = m - np.abs(m - idx)
    return (h * x[np.clip(idx, 0, m)]).sum(axis=1)


# ---------------------------------------------------------------- SoundFont

_SHDR = np.dtype([("name", "S20"), ("start", "<u4"), ("end", "<u4"), ("loop_start", "<u4"), ("loop_end", "<u4"),
                  ("rate", "<u4"), ("key", "u1"), ("cents", "i1"), ("link", "<u2"), ("type", "<u2")])
_PHDR = np.dtype([("name", "S20"), ("preset", "<u2"), ("bank", "<u2"), ("bag", "<u2"), ("rest", "<u4", 3)])
_INST = np.dtype([("name", "S20"), ("bag", "<u2")])
_BAG = np.dtype([("gen", "<u2"), ("mod", "<u2")])
_GEN = np.dtype([("oper", "<u2"), ("amount", "<i2")])


def _chunks(buf: bytes, start: int, end: int) -> dict:
    out, p = {}, start
    while p + 8 <= end:
        cid = buf[p:p + 4].decode("latin-1")
        size = int.from_bytes(buf[p + 4:p + 8], "little")
        out[buf[p + 8:p + 12].decode("latin-1") if cid in ("RIFF", "LIST") else cid] = (
            (p + 12, p + 8 + size) if cid in ("RIFF", "LIST") else (p + 8, p + 8 + size))
        p += 8 + size + (size & 1)
    return out


def _zones(hdr, bag, gen, target: int) -> list:
    """Per preset/instrument: its zones as ``{generator: amount}``, the global zone merged in."""
    out = []
    for i in range(len(hdr) - 1):
        zones = []
        for z in range(hdr["bag"][i], hdr["bag"][i + 1]):
            g = gen[bag["gen"][z]:bag["gen"][z + 1]]
            zones.append(dict(zip(g["oper"].tolist(), g["amount"].tolist())))
        glob = zones.pop(0) if zones and target not in zones[0] else {}
        out.append([{**glob, **z} for z in zones if target in z])
    return out


def read_sf2(path: str):
    """Parse a SoundFont 2 file: ``(pcm int16, shdr records, uses)``.

    ``uses[i]``: for each instrument zone playing sample ``i``, ``(instrument, f0_hz, programs)``
    with the zone's f0 (see the module docstring) and the ``{(bank, program)}`` presets using it.
    """
    with open(path, "rb") as fh:
        buf = fh.read()
    lists = _chunks(buf, *_chunks(buf, 0, len(buf))["sfbk"])
    sdta, pdta = _chunks(buf, *lists["sdta"]), _chunks(buf, *lists["pdta"])
    arr = lambda key, dt: np.frombuffer(buf[slice(*pdta[key])], dt)  # noqa: E731
    pcm = np.frombuffer(buf[slice(*sdta["smpl"])], "<i2")
    shdr, inst, phdr = arr("shdr", _SHDR)[:-1], arr("inst", _INST), arr("phdr", _PHDR)
    progs: dict = {}
    for i, zones in enumerate(_zones(phdr, arr("pbag", _BAG), arr("pgen", _GEN), 41)):
        for z in zones:
            progs.setdefault(z[41], set()).add((int(phdr["bank"][i]), int(phdr["preset"][i])))
    uses = [[] for _ in shdr]
    for i, zones in enumerate(_zones(inst, arr("ibag", _BAG), arr("igen", _GEN), 53)):
        for z in zones:
            s = shdr[z[53]]
            root = z.get(58, -1) if z.get(58, -1) >= 0 else int(s["key"])
            semis = root - 69 - z.get(51, 0) - (z.get(52, 0) + int(s["cents"])) / 100
            name = inst["name"][i].split(b"\0")[0].decode("latin-1")
            uses[z[53]].append((name, 440.0 * 2 ** (semis / 12), progs.get(i, set())))
    return pcm, shdr, uses


def _yin(x: np.ndarray, sr: float, fmin: float = 25.0, fmax: float = 5000.0, threshold: float = 0.15) -> float:
    """YIN f0 estimate (Hz) of a whole segment (cumulative-mean-normalised difference, parabolic refinement)."""
    x = x - x.mean()
    n = len(x)
    tmax, tmin = min(int(sr / fmin), n // 2), max(2, int(sr / fmax))
    if tmax <= tmin + 2:
        return float("nan")
    w = n - tmax
    ss = np.concatenate([[0.0], np.cumsum(x ** 2)])
    ac = np.fft.irfft(np.fft.rfft(x, 2 * n) * np.conj(np.fft.rfft(x[:w], 2 * n)))[:tmax + 1]
    lags = np.arange(tmax + 1)
    d = ss[w] + ss[lags + w] - ss[lags] - 2 * ac
    cm = np.ones(tmax + 1)
    cm[1:] = d[1:] * lags[1:] / np.maximum(np.cumsum(d[1:]), 1e-12)
    below = np.nonzero(cm[tmin:] < threshold)[0]
    t = tmin + (below[0] if len(below) else np.argmin(cm[tmin:]))
    while len(below) and t < tmax and cm[t + 1] < cm[t]:
        t += 1
    shift = 0.0
    if 1 <= t < tmax:
        a, b, c = cm[t - 1], cm[t], cm[t + 1]
        shift = 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c > 0 else 0.0
    return sr / (t + shift)


@functools.lru_cache(maxsize=2)  # read and checked once per process: every draw of windows reuses it
def _note_table(path: str) -> tuple:
    """Pitched, checked notes: list of dicts (name, instrument, x, sr, f0, start, end, yin) and drop counts."""
    pcm, shdr, uses = read_sf2(path)
    notes, dropped = [], {"unpitched": 0, "zones_disagree": 0, "too_short": 0, "yin_disagrees": 0}
    for s, zones in zip(shdr, uses):
        pitched = [(inst, f0) for inst, f0, progs in zones if any(b < 128 and p < 112 for b, p in progs)]
        if not pitched:
            dropped["unpitched"] += 1
            continue
        cents = 1200 * np.log2([f0 for _, f0 in pitched])
        if np.ptp(cents) > _AGREE_CENTS:
            dropped["zones_disagree"] += 1
            continue
        f0 = float(2 ** (cents.mean() / 1200))
        x = pcm[s["start"]:s["end"]].astype(np.float64) / 32768.0
        sr = float(s["rate"])
        frame = max(32, int(sr * 0.005))
        m = len(x) // frame
        if m < 3:
            dropped["too_short"] += 1
            continue
        env = np.sqrt((x[:m * frame].reshape(m, frame) ** 2).mean(axis=1))
        start = int(np.argmax(env >= 0.7 * env.max())) * frame
        end = (int(np.nonzero(env >= 0.1 * env.max())[0][-1]) + 1) * frame
        cycles = (end - start) * f0 / sr
        est = _yin(x[start:end], sr)
        if cycles < 2:
            dropped["too_short"] += 1
            continue
        if not abs(1200 * np.log2(est / f0)) <= _AGREE_CENTS:
            dropped["yin_disagrees"] += 1
            continue
        notes.append({"name": s["name"].split(b"\0")[0].decode("latin-1"), "instrument": pitched[0][0],
                      "x": x, "sr": sr, "f0": f0, "start": start, "end": end, "yin": est})
    return notes, dropped


def _note_windows(window, fmin, fmax, rng):
    notes, dropped = _note_table(_data_file("instrument_notes", RECORDINGS["instrument_notes"]["files"][0]))
    xs, fs, names, short = [], [], [], 0
    for note in notes:
        cycles = (note["end"] - note["start"]) * note["f0"] / note["sr"]  # whole cycles in the sustained part
        hi = min(fmax, cycles)
        if hi < fmin:
            short += 1
            continue
        c = rng.uniform(fmin, hi)
        rate = note["f0"] * window / c
        dur = window / rate
        k = min(_NOTES_PER_SAMPLE, int(cycles // c))
        for j in range(k):
            xs.append(_resample_at(note["x"], note["sr"], note["start"] / note["sr"] + j * dur, rate, window))
            fs.append(c)
            names.append(note["name"])
    dropped["shorter_than_fmin_cycles"] = short
    return xs, fs, {"notes": len(notes) - short, "dropped": dropped, "sample_names": names}


# ---------------------------------------------------------------- heart beats

def _bandpass(x: np.ndarray, sr: float, lo: float, hi: float) -> np.ndarray:
    f = np.fft.rfftfreq(len(x), 1 / sr)
    spec = np.fft.rfft(x - x.mean())
    spec[(f < lo) | (f > hi)] = 0
    return np.fft.irfft(spec, len(x))


def detect_beats(x: np.ndarray, sr: float, kind: str) -> np.ndarray:
    """Beat times (s) of an ECG (``kind="ecg"``: R peaks) or a PPG (``"ppg"``: pulse peaks)."""
    if kind == "ecg":
        y = np.diff(_bandpass(x, sr, 5.0, 20.0), prepend=0.0) ** 2
        k = max(1, int(0.1 * sr))
        y = np.convolve(y, np.ones(k) / k, mode="same")
    else:
        y = _bandpass(x, sr, 0.5, 5.0)
    half = int(0.25 * sr)
    padded = np.pad(y, half, mode="constant", constant_values=-np.inf)
    local_max = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1).max(axis=1)
    level = pd.Series(y).rolling(int(5 * sr), center=True, min_periods=1).quantile(0.95).to_numpy()
    peaks = np.nonzero((y == local_max) & (y > 0.4 * level))[0]
    return peaks / sr


def _clipped(x: np.ndarray, sr: float) -> np.ndarray:
    """Samples within 0.5 s of a run of >= 3 samples at the recording's minimum or maximum (rails, dropouts)."""
    rail = (x == x.min()) | (x == x.max())
    run = np.convolve(rail, np.ones(3), mode="same") >= 3
    return np.convolve(run, np.ones(2 * int(0.5 * sr) + 1), mode="same") > 0


def _valid_rr(beats: np.ndarray, bad=None, sr: float = 1.0) -> np.ndarray:
    """RR intervals in 0.3-2.0 s, within 30 % of their 5 neighbours' median, clear of ``bad`` samples."""
    rr = np.diff(beats)
    med = pd.Series(rr).rolling(5, center=True, min_periods=1).median().to_numpy()
    ok = (rr >= 0.3) & (rr <= 2.0) & (np.abs(rr / med - 1) <= 0.3)
    if bad is not None and len(rr):
        cum = np.concatenate([[0], np.cumsum(bad)])
        i = np.round(beats * sr).astype(int)
        ok &= cum[np.minimum(i[1:] + 1, len(bad))] - cum[i[:-1]] == 0
    return ok


def _read_heart(name: str) -> list:
    """``[(signal, sample rate, kind, file)]`` of a heart recording."""
    out = []
    for rel in RECORDINGS[name]["files"]:
        path = _data_file(name, rel)
        if name == "ecg_bitalino":
            with open(path) as fh:
                header = "".join(line for line in fh if line.startswith("#"))
            sr = float(re.search(r'"sampling rate":\s*([0-9.]+)', header).group(1))
            data = pd.read_csv(path, sep="\t", comment="#", header=None).dropna(axis=1, how="all")
            out.append((data.iloc[:, -1].to_numpy(np.float64), sr, "ecg", rel))
        else:
            data = pd.read_csv(path)
            if "hr" not in data:  # data.csv: one headerless column
                data = pd.read_csv(path, header=None, names=["hr"])
            if "timer" in data:  # milliseconds
                t = data["timer"].to_numpy(np.float64) / 1000
                sr = (len(t) - 1) / (t[-1] - t[0])
            elif "datetime" in data:  # jittered timestamps: their mean rate, as heartpy does
                stamps = pd.to_datetime(data["datetime"], format="ISO8601")
                t = (stamps - stamps.iloc[0]).dt.total_seconds().to_numpy()
                sr = (len(t) - 1) / (t[-1] - t[0])
            else:
                sr = 100.0  # heartpy's documented rate of data.csv
            out.append((data["hr"].to_numpy(np.float64), sr, "ppg", rel))
    return out


def _heart_windows(name, window, fmin, fmax, rng):
    xs, fs, info = [], [], {"beats": {}, "rejected_rr": {}}
    for x, sr, kind, rel in _read_heart(name):
        beats = detect_beats(x, sr, kind)
        ok = _valid_rr(beats, _clipped(x, sr), sr)
        info["beats"][rel], info["rejected_rr"][rel] = len(beats), int((~ok).sum())
        # runs of consecutive valid RR intervals: beat indices [a, b]
        edges = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(int), [0]])))
        for a, b in zip(edges[::2], edges[1::2]):
            run = beats[a:b + 1]
            for i in range(len(run) - 1):
                t0 = rng.uniform(run[i], run[i + 1])
                left = np.interp(run[-1], run, np.arange(len(run))) - np.interp(t0, run, np.arange(len(run)))
                hi = min(fmax, left)
                if hi < fmin:
                    break
                c = rng.uniform(fmin, hi)
                rr = np.median(np.diff(run[max(0, i - 2):i + 3]))
                rate = window * (1 / rr) / c
                t1 = t0 + window / rate
                if t1 > run[-1]:
                    continue
                phase = np.interp([t0, t1], run, np.arange(len(run)))
                truth = phase[1] - phase[0]
                if fmin <= truth <= fmax:
                    xs.append(_resample_at(x, sr, t0, rate, window))
                    fs.append(truth)
    return xs, fs, info


# ---------------------------------------------------------------- public

def recording_windows(name: str, window: int = 100, fmin: float = 1.0, fmax: float = 30.0, seed: int = 0,
                      max_windows=None):
    """Windows of a real recording and their fundamental frequency (cycles per window).

    Args:
        name: a key of :data:`RECORDINGS`.
        window: samples per window (each resampled from the recording at its own rate).
        fmin, fmax: the band the truths are drawn from, ``0 < fmin < fmax < window / 2 * 0.9``
            (the low-pass keeps 0.45 x window cycles).
        seed: seeds the draw of cycles per window and of the heart windows' starts.
        max_windows: keep at most this many (a seeded random subset), or all with ``None``.

    Returns:
        ``(x [k, window] float64, f0 [k] float64, info)``; ``info`` holds the source, licence and
        per-recording details (drops, beats). Raises ImportError naming the extra if the package
        holding the data is not installed.

    Example (needs ``pretty_midi``; ``tests/test_recordings.py`` tests this loader)::

        x, f0, info = recording_windows("instrument_notes", max_windows=5)
        x.shape, bool(((f0 >= 1) & (f0 <= 30)).all())   # ((5, 100), True)
    """
    if name not in RECORDINGS:
        raise ValueError(f"unknown recording {name!r}: expected one of {sorted(RECORDINGS)}")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 8:
        raise ValueError(f"window must be an integer >= 8, got {window!r}")
    fmin, fmax = float(fmin), float(fmax)
    if not (np.isfinite(fmin) and np.isfinite(fmax) and 0 < fmin < fmax <= 0.45 * window):
        raise ValueError(f"need 0 < fmin < fmax <= 0.45 * window ({0.45 * window:g}), got fmin={fmin}, fmax={fmax}")
    if max_windows is not None and (isinstance(max_windows, bool) or int(max_windows) != max_windows
                                    or max_windows < 1):
        raise ValueError(f"max_windows must be a positive integer or None, got {max_windows!r}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), sorted(RECORDINGS).index(name)]))
    maker = _note_windows if name == "instrument_notes" else (lambda *a: _heart_windows(name, *a))
    xs, fs, info = maker(int(window), fmin, fmax, rng)
    x = np.asarray(xs, dtype=np.float64).reshape(-1, int(window))
    f0 = np.asarray(fs, dtype=np.float64)
    if max_windows is not None and len(f0) > max_windows:
        keep = np.sort(rng.choice(len(f0), int(max_windows), replace=False))
        x, f0 = x[keep], f0[keep]
        if "sample_names" in info:
            info["sample_names"] = [info["sample_names"][i] for i in keep]
    info.update({k: RECORDINGS[name][k] for k in ("description", "package", "licence")}, windows=len(f0))
    return x, f0, info


def recording_sets(names=None, **kwargs) -> dict:
    """``{name: (x, f0)}`` for the recordings whose package is installed (others are left out).

    ``kwargs`` go to :func:`recording_windows`; ``names`` picks some of :data:`RECORDINGS`.
    """
    out = {}
    for name in RECORDINGS if names is None else names:
        try:
            x, f0, _ = recording_windows(name, **kwargs)
        except ImportError:
            continue
        out[name] = (x, f0)
    return out
