"""data/secret.key is created readable by its owner only, from the start."""

from __future__ import annotations

import os
import stat

from data import accounts


def test_secret_file_is_created_with_mode_0600_even_under_a_permissive_umask(tmp_path, monkeypatch):
    path = tmp_path / "secret.key"
    monkeypatch.setattr(accounts, "SECRET_FILE", path)
    monkeypatch.delenv("SURVEY_SECRET_KEY", raising=False)
    created_modes = []
    real_open = os.open

    def watching_open(file, flags, mode=0o777, *args, **kwargs):
        descriptor = real_open(file, flags, mode, *args, **kwargs)
        if str(file) == str(path):
            created_modes.append(stat.S_IMODE(os.fstat(descriptor).st_mode))  # before anything is written
        return descriptor

    monkeypatch.setattr(os, "open", watching_open)
    previous = os.umask(0)
    try:
        key = accounts.secret_key()
    finally:
        os.umask(previous)
    assert created_modes == [0o600]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) == 64 and accounts.secret_key() == key  # created once, then read
