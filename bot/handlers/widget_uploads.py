"""Images customers send through the widget (payment proofs, photos of a damaged item).

Files live under ``DATA_DIR/uploads/`` as ``<id>.<ext>`` where the id is
``secrets.token_urlsafe(24)`` (192 random bits), next to a ``<id>.json``
sidecar naming the visitor who uploaded it, so another visitor can neither
guess the file nor attach it to their own messages. The type comes from the
file's first bytes, never from its name or the browser's say-so.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

UPLOAD_ID_RE = re.compile(r"[A-Za-z0-9_-]{32}")
MAX_NAME_CHARS = 120

# (magic bytes test, extension, content type)
_KINDS = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
}


def sniff_image(head: bytes) -> str | None:
    """The extension of a PNG, JPEG, WebP or GIF by its magic bytes, else None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


@dataclass(frozen=True)
class Upload:
    id: str
    ext: str
    name: str
    visitor_id: str
    size: int

    @property
    def url(self) -> str:
        return f"/widget/uploads/{self.id}"

    @property
    def content_type(self) -> str:
        return _KINDS[self.ext]


class TooLarge(Exception):
    pass


class NotAnImage(Exception):
    pass


def clean_name(name: str | None, ext: str) -> str:
    """A display name from the browser's file name: no path, no control characters, short."""
    # Some clients percent-encode the multipart file name; browsers send it raw.
    name = unquote(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if len(name) > MAX_NAME_CHARS:
        stem, dot, suffix = name.rpartition(".")
        name = (stem[: MAX_NAME_CHARS - len(suffix) - 1] + dot + suffix) if dot and len(suffix) <= 8 else name[:MAX_NAME_CHARS]
    return name or f"image.{ext}"


class UploadStore:
    """The uploads folder and its per-file sidecars."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _paths(self, upload_id: str, ext: str) -> tuple[Path, Path]:
        return self.root / f"{upload_id}.{ext}", self.root / f"{upload_id}.json"

    async def save_part(self, part: BodyPartReader, visitor_id: str, max_bytes: int) -> Upload:
        """Read one multipart file part (at most ``max_bytes``) and store it."""
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = await part.read_chunk(64 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge()
            chunks.append(chunk)
        data = b"".join(chunks)
        ext = sniff_image(data[:16])
        if ext is None:
            raise NotAnImage()
        upload = Upload(
            id=secrets.token_urlsafe(24),
            ext=ext,
            name=clean_name(part.filename, ext),
            visitor_id=visitor_id,
            size=size,
        )
        await asyncio.get_running_loop().run_in_executor(None, self._write, upload, data)
        return upload

    async def save_bytes(self, data: bytes, name: str | None, owner_id: str) -> Upload:
        """Store an image another channel received (e.g. a Telegram photo) for ``owner_id``;
        raises :class:`NotAnImage` unless its first bytes say PNG, JPEG, WebP or GIF."""
        ext = sniff_image(data[:16])
        if ext is None:
            raise NotAnImage()
        upload = Upload(
            id=secrets.token_urlsafe(24),
            ext=ext,
            name=clean_name(name, ext),
            visitor_id=owner_id,
            size=len(data),
        )
        await asyncio.get_running_loop().run_in_executor(None, self._write, upload, data)
        return upload

    def _write(self, upload: Upload, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path, sidecar = self._paths(upload.id, upload.ext)
        meta = {
            "visitor_id": upload.visitor_id,
            "name": upload.name,
            "ext": upload.ext,
            "size": upload.size,
            "created_at": datetime.now(UTC).isoformat(),
        }
        # The file first, its sidecar last: an upload exists once its sidecar does.
        for target, content in ((path, data), (sidecar, json.dumps(meta).encode("utf-8"))):
            tmp = target.with_name(f".{target.name}.tmp")
            with open(tmp, "wb") as f:
                f.write(content)
            os.replace(tmp, target)

    def find(self, upload_id: str) -> Upload | None:
        """The upload with this id, or None (unknown, malformed id or missing file)."""
        if not isinstance(upload_id, str) or not UPLOAD_ID_RE.fullmatch(upload_id):
            return None
        sidecar = self.root / f"{upload_id}.json"
        try:
            meta = json.loads(sidecar.read_text("utf-8"))
            ext = meta["ext"]
            if ext not in _KINDS:
                return None
            upload = Upload(upload_id, ext, str(meta["name"]), str(meta["visitor_id"]), int(meta["size"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return upload if self._paths(upload_id, ext)[0].is_file() else None

    def path(self, upload: Upload) -> Path:
        return self._paths(upload.id, upload.ext)[0]


async def serve(request: web.Request, uploads: UploadStore) -> web.StreamResponse:
    """``GET /widget/uploads/{id}``: the image, with its own type and no sniffing."""
    upload = uploads.find(request.match_info["id"])
    if upload is None:
        raise web.HTTPNotFound()
    return web.FileResponse(
        uploads.path(upload),
        headers={
            "Content-Type": upload.content_type,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
            "Cache-Control": "private, max-age=31536000, immutable",
            "Content-Disposition": "inline",
        },
    )
