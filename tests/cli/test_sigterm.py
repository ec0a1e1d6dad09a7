"""SIGTERM (a scheduler's stop, `timeout`, `kill`) stops `authorid train` as Ctrl-C does: the progress line says
it stopped, the resume hint is printed, the exit status is 143; and `--resume` continues from the checkpoint."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import pytest

from authorid.progress import LogProgress
from authorid.training.state import STATE_DIR, usable_checkpoint


def test_a_logged_bar_stopped_by_an_exception_does_not_say_done(capsys):
    with pytest.raises(KeyboardInterrupt), LogProgress(unit="steps") as bar:
        task = bar.add_task("train", total=10)
        bar.advance(task, 3)
        raise KeyboardInterrupt
    with LogProgress(unit="steps") as bar:
        task = bar.add_task("embed", total=5)
        bar.update(task, completed=2, total=2)  # a bar whose total is learned on the way
    first, second = capsys.readouterr().err.strip().splitlines()
    assert first.startswith("train: 3/10, 30%, ") and ", stopped after 0m00s" in first
    assert second.startswith("embed: 2/2, 100%, ") and second.endswith(", done in 0m00s")


@pytest.mark.slow
def test_sigterm_during_train_prints_the_resume_hint_and_exits_143(tmp_path):
    out = tmp_path / "m"
    command = [sys.executable, "-m", "authorid", "train", "enron_demo", "--encoder", "ngram", "-o", str(out)]
    small = ["--episodes.accounts_per_batch", "16", "--run.checkpoint_every", "2", "--run.eval_every", "2"]
    process = subprocess.Popen([*command, *small], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while (
        usable_checkpoint(out / STATE_DIR) is None and process.poll() is None and time.monotonic() < deadline
    ):
        time.sleep(0.5)
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 143, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last == f"terminated; continue from the last checkpoint: authorid train --resume --out {out}"
    stopped = [line for line in err.splitlines() if line.startswith("train: ")][-1]
    assert ", stopped after " in stopped and ", done in " not in err
    # the bar's total is the steps the 7-minute budget allows at this pace, not the preset's 100,000 steps
    done, total = (int(n.replace(",", "")) for n in re.match(r"train: ([\d,]+)/([\d,]+), ", stopped).groups())
    assert 2 <= done < total < 100_000
    assert usable_checkpoint(out / STATE_DIR) is not None


SHUTDOWN = """
import atexit, os, signal, sys, time

def stopped_while_shutting_down():  # a scheduler's stop as the interpreter winds down, after the command
    for _ in range({signals}):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.2)
    print("shutdown went on", flush=True)

atexit.register(stopped_while_shutting_down)
from authorid.cli import main
main(["corpora", "--json"])
"""


@pytest.mark.parametrize(("signals", "status"), [(1, 0), (2, 143)])
def test_a_sigterm_after_the_command_ended_lets_shutdown_end_quietly(signals, status):
    """Audit 13: SIGTERM during the second of shutdown raised `Terminated` inside an atexit hook (a traceback,
    exit 0) or ended the process silently (143): the first is let pass, a second ends it at once."""
    done = subprocess.run(
        [sys.executable, "-c", SHUTDOWN.format(signals=signals)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == status, done.stderr
    assert "Traceback" not in done.stderr and "Terminated" not in done.stderr, done.stderr
    assert ("shutdown went on" in done.stdout) == (signals == 1)
    assert done.stdout.lstrip().startswith(("{", "[")), done.stdout  # the command's summary, even piped
