"""Priors to and from a zip of the TOML files ``load_priors`` reads (pure, no streamlit).

The app offers modified priors as one download: the four files that
:meth:`~model.parameters.Priors.to_toml_files` writes, zipped. :func:`priors_from_zip` reads
such a zip back through :func:`~model.parameters.load_priors` (bounded sizes, TOML only, no
paths outside a temporary folder), which is how the round trip is tested.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

from model.exceptions import PriorsError
from model.parameters.loader import FILES
from model.parameters.texts import priors_from_texts

ZIP_FOLDER = "priors"
MAX_ZIP_BYTES = 4 * 1024 * 1024
MAX_MEMBER_BYTES = 2 * 1024 * 1024


def priors_zip(priors: Any) -> bytes:
    """The priors as a zip holding ``priors/*.toml`` (unzip and pass the folder to
    ``load_priors`` or ``poems --priors``)."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="poems-priors-") as tmp:
        paths = sorted(Path(p) for p in priors.to_toml_files(tmp))
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in paths:
                info = zipfile.ZipInfo(f"{ZIP_FOLDER}/{path.name}", date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def priors_from_zip(data: bytes) -> Any:
    """Load priors from a zip made by :func:`priors_zip` (or any zip of the TOML files)."""

    return priors_from_texts(texts_from_zip(data))


def texts_from_zip(data: bytes) -> dict[str, str]:
    """The four priors files' texts from a zip (bounded sizes; member folders ignored, so no
    path outside the archive is ever read or written)."""

    if len(data) > MAX_ZIP_BYTES:
        raise PriorsError(
            "priors zip",
            f"{len(data)} bytes",
            f"at most {MAX_ZIP_BYTES} bytes",
            "Zip only the TOML files.",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise PriorsError(
            "priors zip", "unreadable data", "a zip file", "Download it again."
        ) from None
    found: dict[str, bytes] = {}
    with archive:
        for info in archive.infolist():
            name = Path(info.filename.replace("\\", "/")).name
            if name in FILES and not info.is_dir():
                if info.file_size > MAX_MEMBER_BYTES:
                    raise PriorsError(
                        f"priors zip: {name}",
                        f"{info.file_size} bytes",
                        f"at most {MAX_MEMBER_BYTES} bytes",
                        "A priors file is tens of kilobytes.",
                    )
                try:
                    found[name] = archive.read(info)
                except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError):
                    raise PriorsError(
                        f"priors zip: {name}",
                        "unreadable data",
                        "an intact, unencrypted zip member",
                        "Download the zip again.",
                    ) from None
    missing = [f for f in FILES if f not in found]
    if missing:
        raise PriorsError(
            "priors zip",
            ", ".join(sorted(found)) or "no TOML files",
            "all of " + ", ".join(FILES),
            f"Missing: {', '.join(missing)}.",
        )
    texts: dict[str, str] = {}
    for name, content in found.items():
        try:
            texts[name] = content.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise PriorsError(
                f"priors zip: {name}", f"byte {err.start}", "UTF-8 text", "Save the file as UTF-8."
            ) from None
    return texts
