"""Download the 2013-RNAcompete compendium (DeepBind layout) with resume and clear errors.

:func:`download_rnacompete` fetches the DeepBind supplementary archive and extracts
``sequences.tsv(.gz)`` and ``targets.tsv(.gz)``; :func:`rbgia.data.load_rnacompete` reads them.
``python -m rbgia.data download DEST`` is its command line.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path

from ._io import atomic_path
from .errors import DataError
from .paths import require_writable_dir, user_path

__all__ = ["DEEPBIND_URL", "DEEPBIND_FILES", "deepbind_file", "download_rnacompete"]

DEEPBIND_URL = "http://tools.genes.toronto.edu/deepbind/nbtcode/nbt3300-supplementary-software.zip"
DEEPBIND_FILES = ("sequences.tsv", "targets.tsv")


def deepbind_file(folder: Path, name: str) -> Path | None:
    """``folder/name`` or ``folder/name.gz``, whichever is a file (plain first), else None."""
    for cand in (name, name + ".gz"):
        if (folder / cand).is_file():
            return folder / cand
    return None


def _have_deepbind(dest: Path) -> bool:
    return all(deepbind_file(dest, n) is not None for n in DEEPBIND_FILES)


def _fetch(url: str, target: Path, timeout: float, progress: bool) -> None:
    """Download ``url`` to ``target`` through ``target.part``, resuming a partial file
    with an HTTP Range request, and rename it into place once complete."""
    from tqdm.auto import tqdm

    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    req = urllib.request.Request(url, headers={"User-Agent": "rbgia"})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # nothing left to fetch: the part file is complete
            os.replace(part, target)
            return
        raise
    with resp:
        if have and resp.status == 206:
            m = re.match(r"bytes (\d+)-\d+/(\d+|\*)", resp.headers.get("Content-Range", ""))
            if not m or int(m[1]) != have:
                raise DataError(f"server sent an unexpected range for {url}; delete {part} and retry")
            total = int(m[2]) if m[2] != "*" else None
            mode = "ab"
        else:  # the server ignored Range: start over
            have, mode = 0, "wb"
            total = int(resp.headers["Content-Length"]) if resp.headers.get("Content-Length") else None
        with open(part, mode) as fh, tqdm(
            total=total, initial=have, unit="B", unit_scale=True, desc=target.name, disable=not progress
        ) as bar:
            while chunk := resp.read(1 << 20):
                fh.write(chunk)
                bar.update(len(chunk))
    size = part.stat().st_size
    if total is not None and size != total:
        raise DataError(f"download of {url} stopped at {size} of {total} bytes; run again to resume from {part}")
    os.replace(part, target)


def _extract(archive: Path, dest: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            for inner in DEEPBIND_FILES:
                hits = [n for n in names if re.search(rf"(^|/)data/rnac/{re.escape(inner)}(\.gz)?$", n)]
                if not hits:
                    raise DataError(
                        f"{archive} has no data/rnac/{inner}(.gz); it is not the DeepBind archive: delete it and "
                        f"download again, or put sequences.tsv and targets.tsv in {dest} by hand"
                    )
                member = sorted(hits)[0]
                with zf.open(member) as src, atomic_path(dest / Path(member).name) as tmp:
                    with open(tmp, "wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
    except (zipfile.BadZipFile, EOFError, zlib.error) as e:
        raise DataError(f"{archive} is truncated or corrupt ({e}); delete it and download again") from e


def download_rnacompete(
    dest: str | os.PathLike,
    url: str = DEEPBIND_URL,
    *,
    timeout: float = 60,
    progress: bool = True,
    keep_archive: bool = False,
) -> Path:
    """Fetch the 2013-RNAcompete data (DeepBind layout) into ``dest``.

    Downloads the DeepBind supplementary archive (``url``) and extracts
    ``nbt3300-code/data/rnac/sequences.tsv(.gz)`` and ``targets.tsv(.gz)`` into
    ``dest``. The download goes to ``<archive>.part`` and is resumed with an HTTP
    Range request if interrupted; files appear only once complete. Returns at once if
    ``dest`` already holds both files; an archive already in ``dest`` (downloaded
    by hand) is extracted without downloading.

    Parameters
    ----------
    dest
        Folder to write into (created if needed; ``~`` is expanded); pass it as ``data_dir``
        to :func:`rbgia.data.load_rnacompete` afterwards.
    url
        The archive's address.
    timeout
        Seconds to wait for the server on connect and on each read.
    progress
        Show a tqdm progress bar.
    keep_archive
        Keep the zip after extraction (it is deleted by default).

    Raises
    ------
    DataError
        If ``dest`` is not writable (checked before anything is fetched), if the server
        cannot be reached or the download breaks off (naming the URL and the manual fix),
        or if the archive is corrupt or lacks the files.
    """
    dest = user_path(dest, "download destination")
    if dest.is_dir() and _have_deepbind(dest):  # a read-only folder that already has the data is fine
        return dest
    require_writable_dir(dest, "download destination")
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / (Path(urllib.request.urlparse(url).path).name or "rnacompete.zip")
    if not archive.is_file():
        manual = (
            f"download {url} by hand and put it (or its data/rnac/sequences.tsv and targets.tsv) in {dest}"
        )
        try:
            _fetch(url, archive, timeout, progress)
        except urllib.error.HTTPError as e:
            raise DataError(f"could not download {url}: HTTP {e.code} {e.reason}; {manual}") from e
        except urllib.error.URLError as e:
            raise DataError(f"could not download {url}: {e.reason}; {manual}") from e
        except (http.client.HTTPException, ConnectionError, TimeoutError) as e:
            raise DataError(
                f"download of {url} broke off ({type(e).__name__}: {e}); run again to resume, or {manual}"
            ) from e
    _extract(archive, dest)
    if not keep_archive:
        archive.unlink()
    return dest
