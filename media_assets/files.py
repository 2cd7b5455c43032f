"""What a media file is, from its first bytes or its name: extension and MIME type for storage and players."""

from __future__ import annotations

import mimetypes
import posixpath

SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"GIF87a", "gif", "image/gif"),
    (b"GIF89a", "gif", "image/gif"),
    (b"#!AMR", "amr", "audio/amr"),
    (b"ID3", "mp3", "audio/mpeg"),
    (b"#!SILK", "silk", "audio/silk"),
)
KIND_DEFAULTS = {
    "image": ("jpg", "image/jpeg"),
    "thumb": ("jpg", "image/jpeg"),
    "voice": ("amr", "audio/amr"),
    "video": ("mp4", "video/mp4"),
}


def sniff(content: bytes, *, kind: str) -> tuple[str, str]:
    """(extension, MIME type) of downloaded bytes; the kind's usual format when the bytes do not say."""
    for magic, extension, content_type in SIGNATURES:
        if content.startswith(magic):
            return extension, content_type
    if content[4:8] == b"ftyp":
        return "mp4", "video/mp4"
    if content[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "mp3", "audio/mpeg"
    return KIND_DEFAULTS.get(kind, ("bin", "application/octet-stream"))


def content_type_for(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def base_name(name: str) -> str:
    return posixpath.basename(name or "")[:255]
