"""What every job shares: its run directory, one-line errors for the scripts, argument parsers."""

from __future__ import annotations

import contextlib
import contextvars
import errno
import functools
import inspect
import numbers
import os
import signal
import sys
import time

from periodic_keras import runs
from periodic_keras.errors import ExportedModelError, ExportError

__all__ = ["NOT_TRAINING", "STRATEGIES", "USER_ERRORS", "add_export_benchmark_arguments", "add_run_arguments",
           "add_strategy_argument", "describe_os_error", "finish", "job", "load_frequency_export", "open_output",
           "hedge_arg", "phase", "resolve_run_arguments", "run_cli", "run_script", "snr_arg", "start_strategy", "summary"]

#: The ``--strategy`` names: :data:`periodic_keras.training.STRATEGIES`, repeated here so that a
#: command line is parsed without importing TensorFlow (kept in sync by the tests).
STRATEGIES = ("default", "mirrored", "multi-worker")
#: Job arguments that change nothing in the training: a rerun may change them and still resume.
NOT_TRAINING = ("output_dir", "export_dir", "no_export", "verbose", "strategy", "restart")
_JOB = contextvars.ContextVar("periodic_keras_job", default=None)


def job(evaluation_only=()):
    """Decorate a job function: its arguments become the run's fingerprint, its locks end with it.

    Inside the job, :func:`start_strategy` (or :func:`open_output`) claims and locks the output
    directory and checks that an interrupted run there had the same arguments (all but
    :data:`NOT_TRAINING` and the job's ``evaluation_only`` ones); the lock is released when
    the job returns or raises. A job's ``restart=True`` discards an interrupted run's backups.
    """
    def decorate(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            skip = set(NOT_TRAINING) | set(evaluation_only)
            run_args = {"job": fn.__name__, **{k: v for k, v in bound.arguments.items() if k not in skip}}
            with contextlib.ExitStack() as stack:
                token = _JOB.set({"args": run_args, "restart": bool(bound.arguments.get("restart")), "stack": stack})
                try:
                    return fn(*args, **kwargs)
                finally:
                    _JOB.reset(token)
        return wrapper
    return decorate


def open_output(output_dir: str, export_dir: str | None = None) -> str:
    """Claim, lock and check this job's ``output_dir`` (and export target) until the job ends.

    See :func:`periodic_keras.runs.open_run`: a directory of other files, an export target
    that is not a previous export or would contain the outputs, another run at work there,
    or an interrupted run with other arguments is refused before any work starts; so is an
    export that would replace TFLM figures or a C array without tflite-micro to rebuild them
    (:func:`periodic_keras.export.check_nothing_lost`).
    """
    run = _JOB.get()
    if run is None:
        raise RuntimeError("open_output runs inside a function decorated with periodic_keras.jobs.common.job")
    if export_dir is not None:  # before the claim: an export that would drop what it cannot rebuild
        runs.check_export_target(export_dir, output_dir)
        from periodic_keras.export import check_nothing_lost

        check_nothing_lost(export_dir)
    run["stack"].enter_context(runs.open_run(output_dir, export_dir, run["args"], run["restart"]))
    return output_dir


def phase(output_dir: str, name: str) -> str:
    """The ``run_dir`` for :func:`periodic_keras.training.fit` of phase ``name`` of this run."""
    return runs.phase_dir(output_dir, name)


def finish(output_dir: str) -> None:
    """The run completed: remove its training backups, so a rerun starts afresh."""
    runs.finish_run(output_dir)


#: Errors that mean "bad input or environment": a script reports them in one line.
USER_ERRORS = (ValueError, TypeError, KeyError, OSError, ImportError, ExportedModelError, ExportError)


#: What to do about the OS errors a user can fix, by errno name.
_ADVICE = {"ENOSPC": "no space left on the device: free some space or choose another directory",
           "EDQUOT": "disk quota exceeded: free some space or choose another directory",
           "ENOTDIR": "a part of the path is a file, not a directory: choose another path",
           "ELOOP": "a symbolic link where a file or directory was expected: remove it or choose another path",
           "EACCES": "permission denied: choose a path this user may write, or change its permissions",
           "EROFS": "the file system is read-only: choose another path",
           "ENAMETOOLONG": "the path is too long: choose a shorter one"}


def describe_os_error(exc: BaseException):
    """One line for an :class:`OSError` a user can fix (what happened, the path, what to do);
    other errors unchanged.

    >>> import errno
    >>> describe_os_error(OSError(errno.ENOSPC, "No space left on device", "runs/x/results.csv"))
    "'runs/x/results.csv': no space left on the device: free some space or choose another directory"
    """
    name = errno.errorcode.get(getattr(exc, "errno", None) or -1)
    if not isinstance(exc, OSError) or name not in _ADVICE:
        return exc
    path = exc.filename if exc.filename is not None else "(no path)"
    return f"{os.fspath(path)!r}: {_ADVICE[name]}"


def check_benchmark_args(seed, output_dir) -> None:
    """The checks every benchmark job makes first: an integer ``seed >= 0`` and a non-empty ``output_dir``."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    if not isinstance(output_dir, (str, os.PathLike)) or not os.fspath(output_dir):
        raise ValueError(f"output_dir must be a non-empty path, got {output_dir!r}")


def snr_arg(text: str):
    """Parse an SNR for argparse: a number in dB, or ``inf``/``clean`` for noiseless."""
    if text.lower() in ("inf", "clean", "none", "noiseless"):
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"SNR must be a number in dB or 'clean', got {text!r}") from None


def hedge_arg(text: str):
    """Parse ``--hedge``: a temperature > 0, ``learned``, or ``none`` (no hedge)."""
    from periodic_keras.signals import check_hedge

    if text.lower() in ("none", "off"):
        return None
    if text.lower() == "learned":
        return "learned"
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"--hedge must be a temperature > 0, 'learned' or 'none', got {text!r}") from None
    check_hedge(value)
    return value


def add_strategy_argument(parser) -> None:
    """Add ``--strategy`` (one of :data:`STRATEGIES`)."""

    parser.add_argument("--strategy", choices=STRATEGIES, default="default",
                        help="tf.distribute strategy: one device, all local devices (mirrored), or the machines "
                             "in TF_CONFIG (multi-worker; run the same command on each)")


def start_strategy(strategy: str, output_dir: str, export_dir, no_export: bool,
                   multi_worker_unsupported: str | None = None):
    """Check ``strategy`` and create it (first, before other TensorFlow work); this worker's directories.

    An unknown name, or ``multi-worker`` for a job that cannot run it
    (``multi_worker_unsupported`` says why), is refused before anything is written.
    Returns ``(strategy object, output_dir, export_dir, no_export)``: under multi-worker a
    worker other than the chief writes to ``output_dir/worker-<i>`` and exports nothing.
    The output directory and export target are then claimed and checked (:func:`open_output`).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}: expected one of {STRATEGIES}")
    if strategy == "multi-worker" and multi_worker_unsupported:
        raise ValueError(f"strategy 'multi-worker' is not supported here: {multi_worker_unsupported}; "
                         "use 'default' or 'mirrored'")
    from periodic_keras import training

    strat = training.get_strategy(strategy)
    if training.is_multi_worker(strat):
        output_dir, export_dir = training.worker_dirs(output_dir, export_dir)
        no_export = no_export or export_dir is None
    open_output(output_dir, None if no_export else export_dir)
    return strat, output_dir, export_dir, no_export


def add_run_arguments(parser, task: str, export: bool = True, strategy: bool = True) -> None:
    """Add the options every training script shares: seed, output and export directories,
    ``--no-export``, ``--quick``, ``--verbose`` and ``--strategy`` (``export=False``: a script that
    trains but exports nothing; no export options and no strategy; ``strategy=False``: no
    strategy, one device)."""
    parser.add_argument("--seed", type=int, default=0, help="seed for weights and data")
    parser.add_argument("--output-dir", default=os.path.join("runs", task),
                        help="results, plot, training backups")
    if export:
        parser.add_argument("--export-dir", default=None,
                            help=f"export directory (default: exported/{task}; with --quick: <output-dir>/exported)")
        parser.add_argument("--no-export", action="store_true", help="skip the export")
    parser.add_argument("--restart", action="store_true",
                        help="discard the training backups of an interrupted run in --output-dir and start afresh")
    parser.add_argument("--quick", action="store_true", help="smoke run: few sequences and steps")
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1 if sys.stdout.isatty() else 2,
                        help="Keras progress: 0 silent, 1 bar, 2 one line per epoch (1 on a terminal, else 2)")
    if export and strategy:
        add_strategy_argument(parser)


def load_frequency_export(export_dir: str, variant: str, who_needs: str, num_threads: int | None = None):
    """Load a frequency export through :mod:`periodic_keras.edge` (which checks it) for a
    benchmark; any other task's export is refused: "... export; <who_needs> a frequency export"."""
    from periodic_keras import edge

    task = edge.read_metadata(export_dir)["task"]  # before an interpreter is opened (and prints)
    if task != "freq":
        raise ValueError(f"{export_dir!r} holds a {task!r} export; {who_needs} a frequency export")
    return edge.load(export_dir, variant, num_threads=num_threads)


def add_export_benchmark_arguments(parser, output_dir: str) -> None:
    """Add the options every benchmark of a frequency export shares: ``--export-dir``,
    ``--variant`` and ``--output-dir`` (default ``runs/<output_dir>``)."""
    parser.add_argument("--export-dir", default=os.path.join("exported", "freq"), help="a frequency export")
    parser.add_argument("--variant", default="float32", help="which TFLite file of the export")
    parser.add_argument("--output-dir", default=os.path.join("runs", output_dir), help="results tables")


def resolve_run_arguments(args, task: str):
    """Fill the default export directory (a quick run never overwrites ``exported/``)."""
    if args.export_dir is None:
        args.export_dir = os.path.join(args.output_dir, "exported") if args.quick else os.path.join("exported", task)
    return args


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the job is, so it stops as Ctrl-C stops it."""


def _on_sigterm(signum, frame):
    raise _Terminated()


def _run(job, kwargs: dict):
    """``(result, exit status)`` of ``job(**kwargs)``: 0; 2 after a one-line user error;
    130 (Ctrl-C) or 143 (SIGTERM) after one line saying finished outputs are intact."""
    prog = os.path.basename(sys.argv[0]) or "periodic_keras"
    previous = None
    with contextlib.suppress(ValueError):  # only the main thread may set signal handlers
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return job(**kwargs), 0
    except Exception as exc:
        if not isinstance(exc, USER_ERRORS):
            raise
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else describe_os_error(exc)
        print(f"{prog}: error: {message}", file=sys.stderr)
        return None, 2
    except KeyboardInterrupt as exc:
        how = "terminated" if isinstance(exc, _Terminated) else "interrupted"
        print(f"{prog}: {how}; finished outputs are intact, rerun the same command to resume", file=sys.stderr)
        return None, 143 if isinstance(exc, _Terminated) else 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def run_cli(job, kwargs: dict):
    """Run ``job(**kwargs)``; on a user error print one line to stderr and return None.

    Ctrl-C and SIGTERM stop the job the same way: finished outputs stay intact (every
    file is written atomically), one line says so, and the same command resumes.
    """
    return _run(job, kwargs)[0]


def run_script(job, kwargs: dict, summarize) -> int:
    """A script's whole run: the job through :func:`run_cli`, its summary, the wall time.

    Returns the exit status: 0; 2 after a one-line user error; 130 (Ctrl-C) or 143 (SIGTERM).
    """
    start = time.time()
    result, status = _run(job, kwargs)
    if status:
        return status
    print(summarize(result))
    print(f"done in {time.time() - start:.0f} s")
    return 0


def summary(result: dict, export_figures=None) -> str:
    """Human-readable summary of a job's result: table, timing, paths, export parity.

    ``export_figures(name, entry, metadata)`` formats one TFLite variant's figures.
    """
    from periodic_keras.jobs import results

    lines = [results.to_markdown(result["table"]), "",
             f"training: {result['train_seconds']:.0f} s",
             f"table: {', '.join(result['table_paths'])}", f"plot: {result['plot']}"]
    meta = result.get("export")
    if meta is not None and export_figures is not None:
        figures = ", ".join(export_figures(k, v, meta) for k, v in meta["tflite"].items())
        lines.append(f"exported: {result['export_dir']} ({figures})")
    for variant, why in {**(meta or {}).get("not_converted", {}), **(meta or {}).get("refused", {})}.items():
        reason = why["reason"] if isinstance(why, dict) else str(why).splitlines()[0]
        lines.append(f"left out of the export: {variant} ({reason})")
    return "\n".join(lines)
