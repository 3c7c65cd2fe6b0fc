"""The fundamental-frequency model's layers, builder and benchmark job (issue 30)."""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest

from periodic_keras.data import gross_errors
from periodic_keras.layers import HarmonicFeatures, HarmonicRefinement
from periodic_keras.layers import CandidateChoice, TrustFlag
from periodic_keras.models import fundamental_regressor, grid_targets

T = np.arange(100) / 100


def _harmonic(f0, amplitudes, phases=None, n=100):
    t = np.arange(n) / n
    phases = np.zeros(len(amplitudes)) if phases is None else phases
    return sum(a * np.sin(2 * np.pi * (k + 1) * f0 * t + p) for k, (a, p) in enumerate(zip(amplitudes, phases))
               if (k + 1) * f0 < n / 2)


def _refine(x, start, **kwargs):
    layer = HarmonicRefinement(100, 1.0, 30.0, **kwargs)
    f, snr, explained = layer([np.asarray(x, "float32"), np.asarray(start, "float32").reshape(-1, 1)])
    return keras.ops.convert_to_numpy(f)[:, 0], keras.ops.convert_to_numpy(snr)[:, 0]


def test_refinement_is_exact_on_noiseless_tones_and_harmonic_waveforms():
    rng = np.random.default_rng(0)
    f0 = rng.uniform(1.0, 30.0, 120)
    tones = np.stack([np.sin(2 * np.pi * f * T + rng.uniform(0, 6)) + 3.0 for f in f0])
    got, snr = _refine(tones, f0 + rng.uniform(-0.1, 0.1, len(f0)))
    assert np.max(np.abs(got - f0)) < 1e-5 and np.all(snr > 60)
    saw = np.stack([_harmonic(f, 1 / np.arange(1, 60), rng.uniform(0, 6, 59)) for f in f0])
    got, _ = _refine(saw, f0 + rng.uniform(-0.1, 0.1, len(f0)))
    assert np.median(np.abs(got - f0)) < 1e-5 and not gross_errors(got, f0).any()


def test_refinement_trend_and_robust_weights_carry_baselines_and_spikes():
    rng = np.random.default_rng(1)
    f0 = rng.uniform(3.0, 30.0, 60)
    u = np.linspace(-1, 1, 100)
    tones = np.stack([np.sin(2 * np.pi * f * T + rng.uniform(0, 6)) for f in f0])
    baseline = tones + 3.0 * u**2 + 2.0 * u
    start = f0 + rng.uniform(-0.15, 0.15, len(f0))
    plain, _ = _refine(baseline, start)
    trend, _ = _refine(baseline, start, trend=2)
    assert np.median(np.abs(trend - f0)) < 1e-4 < np.median(np.abs(plain - f0))
    spiky = tones + 0.05 * rng.normal(size=tones.shape)
    hits = rng.random(tones.shape) < 0.03
    spiky[hits] += 8.0 * rng.choice([-1, 1], hits.sum())
    plain, _ = _refine(spiky, start)
    robust, _ = _refine(spiky, start, robust=2)
    assert np.mean(np.abs(robust - f0)) < 0.5 * np.mean(np.abs(plain - f0))


def test_features_put_a_square_wave_at_its_fundamental_not_its_octaves():
    layer = HarmonicFeatures(100, 1.0, 30.0)
    x = np.sign(np.sin(2 * np.pi * 7.0 * T))[None].astype("float32")
    features = keras.ops.convert_to_numpy(layer(x))[0]
    assert features.shape == (len(layer.frequencies), layer.channels)
    freqs = layer.frequencies
    # k = 1 power: the fundamental and its odd multiples are strong, the octave below holds nothing at f/2.
    assert features[np.argmin(np.abs(freqs - 7.0)), 0] > -3.0
    assert features[np.argmin(np.abs(freqs - 3.5)), 0] < -6.0
    # the half-way channel (k - 1/2) f sees nothing for the truth, everything for an octave too low
    half = layer.harmonics
    assert features[np.argmin(np.abs(freqs - 7.0)), half] < -6.0


@pytest.mark.parametrize("kwargs, message", [
    (dict(fmin=5.0, fmax=2.0), "fmin < fmax"), (dict(trend=4), "trend"), (dict(dft="fft"), "dft"),
    (dict(harmonics=0), "harmonics"), (dict(resolution=0.0), "resolution"),
])
def test_features_refuse_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        HarmonicFeatures(**({"window": 100, "fmin": 1.0, "fmax": 30.0} | kwargs))


@pytest.mark.parametrize("kwargs, message", [
    (dict(robust=-1), "robust"), (dict(trend=7), "trend"), (dict(steps=0), "steps"), (dict(gate=0.0), "gate"),
    (dict(fmax=60.0), "window/2"), (dict(trend=1, degrees=(0, 2)), "degrees"), (dict(degrees=[]), "degrees"),
])
def test_refinement_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        HarmonicRefinement(**({"window": 100, "fmin": 1.0, "fmax": 30.0} | kwargs))


def test_refinement_refuses_a_window_of_another_length():
    with pytest.raises(ValueError, match="built for windows of 100"):
        HarmonicRefinement(100, 1.0, 30.0)([np.zeros((1, 64), "float32"), np.ones((1, 1), "float32")])


def test_candidate_choice_and_targets():
    f, p = CandidateChoice([1.0, 2.0, 3.0, 4.0])(np.array([[0.0, 0.0, 9.0, 0.0]], "float32"))
    assert abs(float(keras.ops.convert_to_numpy(f)[0, 0]) - 3.0) < 1e-3 and float(p[0, 0]) > 0.99
    with pytest.raises(ValueError, match="two candidate"):
        CandidateChoice([1.0])
    t = keras.ops.convert_to_numpy(grid_targets(np.array([2.5, 9.0]), np.arange(1.0, 10.0, 0.5)))
    assert t.shape == (2, 18) and np.allclose(t.sum(axis=1), 1.0) and t[0].argmax() == 3


def test_fit_choice_takes_the_trend_fit_only_where_it_explains_much_more():
    from periodic_keras.layers import FitChoice

    f_a, f_b = np.array([[5.0], [5.0]]), np.array([[5.3], [5.3]])
    e_a = np.array([[0.5], [0.5]])
    e_b = np.array([[0.6], [0.95]])  # noise/signal 0.67 (vs 1.0: not enough) and 0.053 (< 0.3 x 1.0)
    f, e, second = (keras.ops.convert_to_numpy(v)[:, 0] for v in FitChoice(0.3)([f_a, e_a, f_b, e_b]))
    assert f.tolist() == pytest.approx([5.0, 5.3]) and second.tolist() == [0.0, 1.0]
    assert e.tolist() == pytest.approx([0.5, 0.95])
    with pytest.raises(ValueError, match="ratio"):
        FitChoice(0.0)


def test_refinement_of_several_degrees_is_each_fit_alone_in_one_pass():
    rng = np.random.default_rng(6)
    f0 = rng.uniform(1.5, 25.0, 12)
    u = np.linspace(-1, 1, 100)
    x = np.stack([_harmonic(f, [1.0, 0.4, 0.2], rng.uniform(0, 6, 3)) + 2.0 * u**2 + 0.05 * rng.normal(size=100)
                  for f in f0])
    start = f0 + rng.uniform(-0.15, 0.15, len(f0))
    both = HarmonicRefinement(100, 1.0, 30.0, trend=2, degrees=(0, 2), robust=1, iterations=4)(
        [x.astype("float32"), start.reshape(-1, 1).astype("float32")])
    for column, trend in enumerate((0, 2)):
        alone = HarmonicRefinement(100, 1.0, 30.0, trend=trend, robust=1, iterations=4)(
            [x.astype("float32"), start.reshape(-1, 1).astype("float32")])
        for got, want in zip(both, alone):
            assert np.allclose(keras.ops.convert_to_numpy(got)[:, column], keras.ops.convert_to_numpy(want)[:, 0],
                               atol=2e-4)
    from periodic_keras.layers import FitChoice  # the fit choice takes the two columns as they come

    f, snr, explained, second = (keras.ops.convert_to_numpy(v)[:, 0] for v in FitChoice(0.3)(list(both)))
    assert second.all() and np.median(np.abs(f - f0)) < 1e-2  # the baseline needs the trend fit


def test_tone_check_takes_the_tone_only_where_the_other_harmonics_add_nothing():
    from periodic_keras.layers import ToneCheck

    check = ToneCheck(100, 8, noise_scale=1.0)
    ones = np.ones((5, 1))
    f = np.array([[6.0], [6.0], [6.0], [6.0], [20.0]])
    explained = np.array([[0.91], [0.99], [0.91], [0.91], [0.91]])
    f_tone = np.array([[12.02], [12.0], [12.9], [6.05], [20.3]])  # a multiple; a multiple; neither; itself; off
    snr = np.full((5, 1), 10.0)  # the tone leaves 1/11 of the window: as much as the first harmonic fit
    got, tone = (keras.ops.convert_to_numpy(v)[:, 0] for v in check([f, explained, ones, f_tone, snr]))
    assert tone.tolist() == [1.0, 0.0, 0.0, 1.0, 0.0]  # the second: its harmonics explain 10x more (F large)
    assert got.tolist() == pytest.approx([12.02, 6.0, 6.0, 6.05, 20.0])
    trend = check([f, explained, np.zeros((5, 1)), f_tone, snr])[1]  # the trend fit was needed: no tone
    assert not keras.ops.convert_to_numpy(trend).any()
    assert ToneCheck.from_config(check.get_config()).get_config() == check.get_config()
    for kwargs, message in [(dict(max_f=0.0), "max_f"), (dict(max_multiple=0), "max_multiple"),
                            (dict(tolerance=-1.0), "tolerance"), (dict(noise_scale=0.0), "noise_scale")]:
        with pytest.raises(ValueError, match=message):
            ToneCheck(100, **kwargs)


def test_the_model_puts_right_a_tone_started_at_half_its_frequency_and_keeps_harmonic_windows():
    """The fits from a candidate at half a pure tone's frequency find the tone as its second
    harmonic; the tone check answers the tone (to the maximum-likelihood precision), while a
    sawtooth-like window's fundamental stays. The check off: the halved answer stays."""
    from periodic_keras.models import finish_fundamental

    rng = np.random.default_rng(8)
    f0 = rng.uniform(8.0, 24.0, 16)
    tones = np.stack([np.sin(2 * np.pi * f * T + rng.uniform(0, 6)) for f in f0]) + 0.05 * rng.normal(size=(16, 100))
    saw = np.stack([_harmonic(f / 2, 1 / np.arange(1, 9), rng.uniform(0, 6, 8)) for f in f0])
    x = np.concatenate([tones, saw]).astype("float32")
    start = np.concatenate([f0, f0]) / 2
    answers = {}
    for check in (3.0, None):
        model = fundamental_regressor(units=4, tone_check=check)
        start_input = keras.Input((1,), name="start")
        from_start = keras.Model([model.input, start_input], finish_fundamental(model, start_input)["f"])
        answers[check] = from_start.predict([x[..., None], start[:, None].astype("float32")], verbose=0)[:, 0]
    checked, plain = answers[3.0], answers[None]
    assert np.max(np.abs(checked[:16] - f0)) < 0.01 and np.allclose(checked[16:], f0 / 2, atol=0.02)
    assert np.allclose(plain[:16], f0 / 2, atol=0.05)  # without the check: the network's halving stays


def test_refinement_stays_within_max_move_of_its_start():
    x = np.sin(2 * np.pi * 9.0 * T)[None]
    got, _ = _refine(x, [8.7], max_move=0.2)
    assert got[0] == pytest.approx(8.9, abs=1e-5)
    got, _ = _refine(x, [8.8], max_move=0.4)
    assert got[0] == pytest.approx(9.0, abs=1e-5)


def test_model_saves_and_loads_in_safe_mode(tmp_path):
    model = fundamental_regressor(window=64, fmin=1.0, fmax=12.0, units=8)
    x = np.sin(2 * np.pi * 5.3 * np.arange(64) / 64)[None, :, None].astype("float32")
    path = os.fspath(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    a, b = model.predict(x, verbose=0), loaded.predict(x, verbose=0)
    assert sorted(a) == sorted(b)
    np.testing.assert_allclose(a["cycles_per_window"], b["cycles_per_window"], atol=1e-6)


@pytest.fixture(scope="module")
def trained():
    """A small model trained briefly on harmonic windows (weak and missing fundamentals among them)."""
    from periodic_keras import training
    from periodic_keras.data import realistic_dataset

    training.set_seed(0)
    model = fundamental_regressor(units=16)
    grid = model.get_layer("candidates").frequencies
    scorer = keras.Model(model.input, model.output["logits"])
    scorer.compile(optimizer=training.adam_cosine(400, 3e-3),
                   loss=lambda f0, logits: keras.losses.categorical_crossentropy(grid_targets(f0, grid), logits,
                                                                                  from_logits=True))
    data = realistic_dataset("train", kinds=["tone", "harmonic", "weak_fundamental"], batch_size=32,
                             snr_db=(20.0, 40.0))
    scorer.fit(data, steps_per_epoch=400, epochs=1, verbose=0)
    return model


def test_the_learned_part_finds_a_weak_fundamental_the_strongest_peak_misses(trained):
    from periodic_keras.jobs.fundamental import fundamental_estimators

    rng = np.random.default_rng(3)
    f0 = rng.uniform(2.0, 8.0, 20)
    amplitudes = np.array([0.1, 0.5, 1.0, 0.6, 0.4, 0.3, 0.2, 0.1])  # the third harmonic is strongest
    x = np.stack([_harmonic(f, amplitudes, rng.uniform(0, 6, 8)) for f in f0])
    estimators = fundamental_estimators(trained, 100, 1.0, 30.0)
    out = estimators["model"](x)
    learned, off = out["cycles_per_window"][:, 0], out["learned_off"][:, 0]
    assert gross_errors(off, f0).mean() > 0.8  # the strongest peak is the third harmonic
    assert gross_errors(learned, f0).mean() <= 0.1


def test_trust_thresholds_keep_a_crafted_gross_error_out(trained):
    from periodic_keras.jobs.fundamental import fundamental_estimators, trust_thresholds, trusted_answers

    estimators = fundamental_estimators(trained, 100, 1.0, 30.0)
    rng = np.random.default_rng(4)
    f0 = rng.uniform(2.0, 20.0, 60)
    clean = np.stack([_harmonic(f, 1 / np.arange(1, 9), rng.uniform(0, 6, 8)) for f in f0])
    out = estimators["model"](clean)
    gross = gross_errors(out["cycles_per_window"][:, 0], f0)
    thresholds = trust_thresholds(out["confidence"], np.abs(out["cycles_per_window"] - out["coarse"]), gross)
    # two equal tones at a non-harmonic ratio and pure noise: no fundamental to trust
    crafted = np.stack([np.sin(2 * np.pi * 4.1 * T) + np.sin(2 * np.pi * 13.7 * T), rng.normal(size=100)])
    assert not trusted_answers(estimators["model"](crafted), thresholds).any()
    assert trusted_answers(out, thresholds).mean() > 0.5


def test_trust_thresholds_take_the_most_permissive_level_that_holds():
    from periodic_keras.jobs.fundamental import trust_thresholds

    confidence = np.array([0.99, 0.95, 0.9, 0.6, 0.5])
    gross = np.array([False, False, False, True, False])
    assert trust_thresholds(confidence, np.zeros(5), gross)["min_confidence"] == 0.9
    assert trust_thresholds(confidence, np.zeros(5), np.zeros(5, bool))["min_confidence"] == 0.5
    moved = np.array([0.0, 0.0, 0.0, 0.0, 1.0])  # moved too far: never trusted whatever its confidence
    assert trust_thresholds(confidence, moved, gross)["min_confidence"] == 0.9


def test_trust_flag_marks_confident_answers_that_stayed_near_their_candidate():
    flag = TrustFlag(0.8, 0.3)
    f, start, confidence = (np.array(v, "float32")[:, None] for v in
                            ([5.0, 7.0, 3.0, 9.0], [5.1, 6.0, 3.0, 9.29], [0.9, 0.95, 0.79, 0.8]))
    assert keras.ops.convert_to_numpy(flag([f, start, confidence]))[:, 0].tolist() == [1.0, 0.0, 0.0, 1.0]
    assert TrustFlag.from_config(flag.get_config()).get_config() == flag.get_config()
    with pytest.raises(ValueError, match="min_confidence"):
        TrustFlag(1.5)
    with pytest.raises(ValueError, match="max_move"):
        TrustFlag(0.5, 0.0)


def test_export_computes_the_trust_flag_in_the_graph_as_the_benchmark_does(tmp_path):
    import json
    import shutil

    from periodic_keras import edge
    from periodic_keras.errors import ExportedModelError
    from periodic_keras.jobs.fundamental import export_fundamental, fundamental_estimators, trusted_answers
    from periodic_keras.models import micro_variant

    keras.utils.set_random_seed(0)  # a small graph (short window, few harmonics and steps): a quick export
    model = fundamental_regressor(window=64, fmin=1.0, fmax=8.0, units=4, harmonics=3, refine_steps=2, iterations=3)
    rng = np.random.default_rng(5)
    f0 = rng.uniform(1.5, 7.0, 30)
    t = np.arange(64) / 64
    x = np.stack([sum(np.sin(2 * np.pi * k * f * t + rng.uniform(0, 6)) / k for k in (1, 2, 3)) for f in f0]
                 + [rng.normal(size=64)])
    # What the file holds: the same weights with GELU in its tanh form (micro_variant)
    out = fundamental_estimators(micro_variant(model), 64, 1.0, 8.0)["model"](x)
    thresholds = {"min_confidence": float(np.median(out["confidence"])), "max_move": 0.3}
    meta = export_fundamental(model, thresholds, os.fspath(tmp_path / "fundamental"), per_kind=1)
    assert meta["quality"]["columns"] == ["cycles_per_window", "trusted", "confidence", "explained", "trend_fit"]
    assert meta["tflite"]["float32"]["parity_max_abs_diff"] <= 2e-3
    assert {"gross", "trusted", "trusted_and_wrong"} <= set(meta["tflite"]["float32"])
    loaded = edge.load(os.fspath(tmp_path / "fundamental"))
    f, quality = loaded.predict(x, return_quality=True)
    assert f.shape == (len(x),) and np.max(np.abs(f - out["cycles_per_window"][:, 0])) < 2e-3
    expected = trusted_answers(out, thresholds)
    assert 0 < expected.sum() < len(x) and (quality["trusted"] == expected).all()  # the flag, from the file
    assert np.array_equal(loaded.quality(x)["trusted"], quality["trusted"])
    assert loaded.raw(x).shape == (len(x), 5)
    with pytest.raises(ValueError, match="without frequency"):
        loaded.quality(x, frequency=f)
    shutil.copytree(tmp_path / "fundamental", tmp_path / "bad")
    path = tmp_path / "bad" / "metadata.json"
    bad = json.loads(path.read_text())
    bad["quality"]["columns"] = bad["quality"]["columns"][:3]  # fewer names than the output has columns
    path.write_text(json.dumps(bad))
    with pytest.raises(ExportedModelError, match="quality.columns"):
        edge.load(os.fspath(tmp_path / "bad"))


@pytest.mark.slow
def test_benchmark_job_writes_every_row_with_the_ablations(tmp_path):
    from periodic_keras.data import KINDS
    from periodic_keras.jobs import benchmark_fundamental

    out = benchmark_fundamental(steps=10, batch_size=16, units=4, n_test=2, window=64, fmax=8.0,
                                recordings=False, output_dir=os.fspath(tmp_path / "run"), no_export=True, verbose=0)
    table = out["table"]
    assert set(table["set"]) == set(KINDS)
    assert {"model", "model_coarse", "learned_off", "model_no_trend_fit", "model_no_tone_check", "ml", "ml_trend",
            "harmonic_nls", "harmonic_nls_robust", "yin"} <= set(table["estimator"])
    assert {"best_classical", "set"} <= set(out["gross"].columns)
    assert all(os.path.exists(p) for p in out["table_paths"])
    with pytest.raises(ValueError, match="train_snr"):
        benchmark_fundamental(train_snr=(10.0, 0.0), output_dir=os.fspath(tmp_path / "bad"), no_export=True)
