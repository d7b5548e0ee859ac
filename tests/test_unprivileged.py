"""posthoc imports, and its command line answers, for a user who can write neither the
installed package nor a home folder (numba's cache goes to a writable folder instead)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOBODY = 65534


def test_posthoc_imports_for_a_user_who_cannot_write_the_package_or_home(tmp_path):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.fail("this test runs as root (CI does) and needs setpriv to become nobody")
    # A Python nobody may run (the project's interpreter may sit in root's home), with the
    # project's packages and this checkout, read-only to nobody.
    python = shutil.which(f"python{sys.version_info.major}.{sys.version_info.minor}",
                          path="/usr/bin:/usr/local/bin") or sys.executable
    # pytest's own folders are root's alone: nobody's temporary folder sits beside them.
    temporary = Path(tempfile.mkdtemp(prefix="posthoc-nobody-"))
    temporary.chmod(0o777)
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(temporary),
           "PYTHONPATH": f"{ROOT}:{sysconfig.get_paths()['purelib']}"}
    done = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
                           "--clear-groups", python, "-m", "posthoc", "--help"],
                          env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    try:
        assert done.returncode == 0, done.stderr[-1500:]
        assert "posthoc debias" in done.stdout and "cannot cache" not in done.stderr
        assert (temporary / f"posthoc-numba-{NOBODY}").is_dir()
    finally:
        shutil.rmtree(temporary)
