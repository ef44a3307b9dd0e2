from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

GOOD_FAQ = """\
version: 1
category: payment
faqs:
  - id: payment-methods
    questions:
      id: ["Bisa bayar pakai apa aja?", "metode pembayaran apa saja"]
      en: ["What payment methods do you accept?"]
    answer:
      id: "Kami menerima transfer bank, e-wallet, dan COD."
      en: "We accept bank transfer, e-wallets and cash on delivery."
    buttons:
      - title: {id: "Nomor rekening", en: "Bank accounts"}
        payload: "/faq/payment-bank"
  - id: payment-bank
    questions:
      id: ["nomor rekening berapa?"]
    answer:
      id: "BCA 123."
      en: "BCA 123."
"""


class DataDir:
    """A data dir under tmp_path, which is also the current directory."""

    def __init__(self, root: Path):
        self.root = root

    def write(self, rel: str, content: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
        return path


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataDir:
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.chdir(tmp_path)
    return DataDir(root)


@pytest.fixture
def good_faq() -> str:
    return GOOD_FAQ
