"""`ledgerlink snapshot` as a person runs it before go-live: progress, the counts, the warning
that the folder holds personal data, and no Prefect or Great Expectations on the way."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

RUN = ("import sys\nfrom ledgerlink.cli import main\ncode = main(sys.argv[1:])\n"
       "print('loaded:', sorted(m for m in ('prefect', 'great_expectations') if m in sys.modules), file=sys.stderr)\n"
       "sys.exit(code)")


def ledgerlink(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUN, *args], env=dict(os.environ), capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("books", [("pipedrive", "quickbooks")], indirect=True, ids=["pipedrive+quickbooks"])
def test_the_command_prints_progress_counts_and_the_personal_data_warning(books, capsys):
    from ledgerlink.cli import main

    out = books.home / "before-go-live"
    done = ledgerlink("snapshot", "--tenant", "books", "--out", str(out))
    assert done.returncode == 0, done.stderr
    expected = {**books.pair.crm.record_counts(), **books.pair.accounting.record_counts()}
    lines = done.stdout.splitlines()
    assert lines[0] == f"snapshot of tenant books (pipedrive + quickbooks) written to {out}"
    assert [line.split() for line in lines[1:8]] == [[name, f"{count:,}"] for name, count in expected.items()]
    assert "owner-only (folder 0700, files 0600)" in done.stdout and "personal data (POPIA)" in done.stdout
    assert f"  reading deals: {expected['deals']}" in done.stderr  # progress, page by page
    assert done.stderr.splitlines()[-1] == "loaded: []"  # a snapshot needs neither Prefect nor GX
    assert stat.S_IMODE(out.stat().st_mode) == 0o700

    capsys.readouterr()
    assert main(["snapshot", "--tenant", "books", "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"ledgerlink: {out} already exists; a snapshot never overwrites one\n"
    assert main(["snapshot", "--tenant", "nobody"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("ledgerlink: unknown tenant 'nobody'") and error.count("\n") == 1
