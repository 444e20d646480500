"""rbgia.download.download_rnacompete (re-exported by rbgia.data) against a local HTTP server (no internet here)."""

from __future__ import annotations

import gzip
import http.server
import io
import re
import socket
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

import rbgia.data as rd
from rbgia.data import list_experiments, load_rnacompete
from rbgia.download import DEEPBIND_URL, download_rnacompete
from rbgia.errors import DataError

ARCHIVE = Path(DEEPBIND_URL).name  # nbt3300-supplementary-software.zip


def _deepbind_zip(gz: bool = True, inner: bool = True) -> tuple[bytes, bytes, bytes]:
    """A zip shaped like the DeepBind archive; returns (zip, sequences.tsv, targets.tsv)."""
    rng = np.random.default_rng(0)
    n_a, n_b = 60, 30
    seqs = ["".join(rng.choice(list("ACGT"), int(k))) for k in rng.integers(30, 42, n_a + n_b)]
    seq_txt = "Fold ID\tEvent ID\tseq\n" + "".join(
        f"{'A' if i < n_a else 'B'}\tRNAC_{i}\t{s}\n" for i, s in enumerate(seqs)
    )
    tgt_txt = "RNCMPT00001\tRNCMPT00168\n" + "".join(f"{a:.4f}\t{b:.4f}\n" for a, b in rng.normal(size=(n_a + n_b, 2)))
    seq_b, tgt_b = seq_txt.encode(), tgt_txt.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("nbt3300-code/README.txt", "DeepBind code\n")
        # Incompressible filler so the archive is big enough to cut in the middle.
        zf.writestr("nbt3300-code/data/dream5/filler.bin", rng.bytes(200_000))
        if inner:
            sfx = ".gz" if gz else ""
            zf.writestr(f"nbt3300-code/data/rnac/sequences.tsv{sfx}", gzip.compress(seq_b) if gz else seq_b)
            zf.writestr(f"nbt3300-code/data/rnac/targets.tsv{sfx}", gzip.compress(tgt_b) if gz else tgt_b)
    return buf.getvalue(), seq_b, tgt_b


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.payload`` at any path; honours ``Range: bytes=N-`` unless told not to."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        srv = self.server
        srv.requests.append({"path": self.path, "range": self.headers.get("Range")})
        if srv.status != 200:
            self.send_error(srv.status)
            return
        data, start = srv.payload, 0
        m = re.match(r"bytes=(\d+)-$", self.headers.get("Range") or "")
        if m and srv.honour_range:
            start = int(m[1])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if srv.cut_after is not None:  # promise everything, send part, hang up
            body = body[: srv.cut_after]
            srv.cut_after = None
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return
        srv.served_bytes += len(body)  # before the write: the client may assert as soon as it has the bytes
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


@pytest.fixture
def server(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.payload, _, _ = _deepbind_zip()
    srv.requests, srv.served_bytes, srv.cut_after = [], 0, None
    srv.honour_range, srv.status = True, 200
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/deepbind/nbtcode/{ARCHIVE}"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_data_re_exports_the_downloader():
    assert rd.download_rnacompete is download_rnacompete and rd.DEEPBIND_URL == DEEPBIND_URL


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/{ARCHIVE}"


def test_download_extracts_the_deepbind_files(server, tmp_path):
    dest = download_rnacompete(tmp_path / "rnac", server.url, timeout=10, progress=True)
    assert dest == tmp_path / "rnac"
    assert sorted(p.name for p in dest.iterdir()) == ["sequences.tsv.gz", "targets.tsv.gz"]  # archive removed
    _, seq_b, tgt_b = _deepbind_zip()
    assert gzip.decompress((dest / "sequences.tsv.gz").read_bytes()) == seq_b
    assert gzip.decompress((dest / "targets.tsv.gz").read_bytes()) == tgt_b
    assert list_experiments(dest) == ["RNCMPT00001", "RNCMPT00168"]
    data = load_rnacompete(dest, "RNCMPT00168", cache_dir=None)
    assert data.source == "deepbind" and (len(data.train), len(data.valid), len(data.test)) == (54, 6, 30)
    # Already there: returns without asking the server again.
    n = len(server.requests)
    assert download_rnacompete(dest, server.url, progress=False) == dest and len(server.requests) == n


def test_download_plain_tsv_and_keep_archive(server, tmp_path):
    server.payload, seq_b, _ = _deepbind_zip(gz=False)
    dest = download_rnacompete(tmp_path, server.url, progress=False, keep_archive=True)
    assert (dest / "sequences.tsv").read_bytes() == seq_b
    assert (dest / ARCHIVE).read_bytes() == server.payload


def test_resume_from_part_file_with_range(server, tmp_path):
    half = len(server.payload) // 2
    (tmp_path / f"{ARCHIVE}.part").write_bytes(server.payload[:half])
    download_rnacompete(tmp_path, server.url, progress=False)
    assert server.requests[-1]["range"] == f"bytes={half}-"
    assert server.served_bytes == len(server.payload) - half  # only the missing half was sent
    assert (tmp_path / "targets.tsv.gz").is_file() and not (tmp_path / f"{ARCHIVE}.part").exists()


def test_interrupted_download_fails_clearly_then_resumes(server, tmp_path):
    server.cut_after = 120_000
    with pytest.raises(DataError, match=r"stopped at 120000 of \d+ bytes; run again to resume"):
        download_rnacompete(tmp_path, server.url, progress=False)
    part = tmp_path / f"{ARCHIVE}.part"
    assert part.stat().st_size == 120_000 and not (tmp_path / ARCHIVE).exists()
    assert not (tmp_path / "sequences.tsv.gz").exists()
    download_rnacompete(tmp_path, server.url, progress=False)
    assert server.requests[-1]["range"] == "bytes=120000-"
    assert (tmp_path / "sequences.tsv.gz").is_file() and not part.exists()


def test_server_ignoring_range_restarts(server, tmp_path):
    server.honour_range = False
    (tmp_path / f"{ARCHIVE}.part").write_bytes(b"stale bytes from another file")
    download_rnacompete(tmp_path, server.url, progress=False)
    assert server.served_bytes == len(server.payload)
    assert list_experiments(tmp_path) == ["RNCMPT00001", "RNCMPT00168"]


def test_complete_part_file_answered_416(server, tmp_path):
    (tmp_path / f"{ARCHIVE}.part").write_bytes(server.payload)
    download_rnacompete(tmp_path, server.url, progress=False)
    assert server.served_bytes == 0 and (tmp_path / "sequences.tsv.gz").is_file()


def test_connection_refused_names_url_and_fix(tmp_path):
    url = _closed_port_url()
    where = re.escape(str(tmp_path))
    with pytest.raises(DataError, match=rf"could not download {re.escape(url)}.*by hand and put it .* in {where}"):
        download_rnacompete(tmp_path, url, timeout=5, progress=False)
    assert not any(tmp_path.iterdir())


def test_http_error(server, tmp_path):
    server.status = 404
    with pytest.raises(DataError, match=r"HTTP 404.*by hand"):
        download_rnacompete(tmp_path, server.url, progress=False)


def test_archive_put_by_hand_is_extracted_offline(tmp_path):
    payload, seq_b, _ = _deepbind_zip()
    (tmp_path / ARCHIVE).write_bytes(payload)
    download_rnacompete(tmp_path, _closed_port_url(), progress=False)
    assert gzip.decompress((tmp_path / "sequences.tsv.gz").read_bytes()) == seq_b


def test_corrupt_or_foreign_archive(tmp_path):
    payload, _, _ = _deepbind_zip()
    (tmp_path / ARCHIVE).write_bytes(payload[: len(payload) // 3])
    with pytest.raises(DataError, match="truncated or corrupt.*delete it and download again"):
        download_rnacompete(tmp_path, _closed_port_url(), progress=False)
    other = tmp_path / "other"
    other.mkdir()
    (other / ARCHIVE).write_bytes(_deepbind_zip(inner=False)[0])
    with pytest.raises(DataError, match="no data/rnac/sequences.tsv.*not the DeepBind archive"):
        download_rnacompete(other, _closed_port_url(), progress=False)


def test_silent_server_times_out_clearly(tmp_path):
    with socket.socket() as s:  # accepts connections (backlog) but never answers
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        url = f"http://127.0.0.1:{s.getsockname()[1]}/{ARCHIVE}"
        with pytest.raises(DataError, match=rf"{re.escape(url)}.*(timed out|broke off).*by hand"):
            download_rnacompete(tmp_path, url, timeout=0.5, progress=False)
