"""Run a script of ``scripts/`` (or any Python) in a fresh process, as a user would, or its
``main(argv)`` in this process (shared by the tests)."""

import contextlib
import functools
import importlib
import io
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(*args, timeout=300):
    """``python *args`` in a fresh process from the repository root (the package importable);
    the CompletedProcess, output captured as text."""
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONPATH=ROOT), cwd=ROOT)


def run_script(script, *args, timeout=300):
    """``python scripts/<script> *args`` from the repository root; the CompletedProcess."""
    return run_python(os.path.join(ROOT, "scripts", script), *args, timeout=timeout)


def runner(script):
    """``run(*args, timeout=...)`` for one script."""
    return functools.partial(run_script, script)


def run_main(script, *args, **_):
    """``scripts/<script>``'s ``main(args)`` in this process, as ``python scripts/<script> *args``
    runs it (``sys.argv[0]`` is the script, so messages name it); a CompletedProcess with the exit
    status and what it printed. For argument tables: no fresh Python, no TensorFlow import."""
    module = importlib.import_module(f"periodic_keras.cli.{os.path.splitext(script)[0]}")
    out, err, argv = io.StringIO(), io.StringIO(), sys.argv
    sys.argv = [os.path.join(ROOT, "scripts", script), *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = module.main(list(args))
            except SystemExit as exc:  # argparse: --help (0) or a bad command line (2)
                status = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = argv
    return subprocess.CompletedProcess([script, *args], status, out.getvalue(), err.getvalue())


def main_runner(script):
    """``run(*args)`` for one script, in this process (:func:`run_main`)."""
    return functools.partial(run_main, script)


def safe_load_in_fresh_process(model, inputs, tmp_path, atol=1e-6):
    """Save ``model``, load it with ``safe_mode=True`` in a fresh process, check its outputs on
    ``inputs`` (one array or a list) match; return the layer class names the fresh process saw."""
    import numpy as np

    listed = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    np.savez(tmp_path / "in.npz", *listed)
    np.save(tmp_path / "expected.npy", model.predict(inputs, verbose=0))
    model.save(tmp_path / "m.keras")
    code = (
        "import numpy as np, keras, periodic_keras.layers\n"
        f"m = keras.models.load_model({str(tmp_path / 'm.keras')!r}, safe_mode=True)\n"
        f"d = np.load({str(tmp_path / 'in.npz')!r})\n"
        f"x = [d[f'arr_{{i}}'] for i in range({len(listed)})]\n"
        f"got = m.predict(x if {len(listed)} > 1 else x[0], verbose=0)\n"
        f"np.testing.assert_allclose(got, np.load({str(tmp_path / 'expected.npy')!r}), atol={atol})\n"
        "print(' '.join(sorted({type(l).__name__ for l in m.layers})))\n"
    )
    done = run_python("-c", code, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return set(done.stdout.split())


def builtin_litert_outputs(model, x):
    """Convert ``model`` to float32 TFLite, run each row of ``x`` through LiteRT with builtin
    ops only (no delegates); return the stacked outputs and the set of op names in the graph."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from periodic_keras.export import tflite_models

    interpreter = Interpreter(model_content=tflite_models(model)["float32"],
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    (inp,), out = interpreter.get_input_details(), interpreter.get_output_details()[0]
    got = []
    for row in x:
        interpreter.set_tensor(inp["index"], row[None])
        interpreter.invoke()
        got.append(interpreter.get_tensor(out["index"])[0])
    return np.array(got), {op["op_name"] for op in interpreter._get_ops_details()}
