"""Small real files for the sandbox's demo data and for tests: PNG and JPEG drawn by Pillow, MP3 and MP4 headers."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def picture(*, width: int = 64, height: int = 64, color: str = "#07c160", label: str = "", fmt: str = "PNG") -> bytes:
    """An image of one colour with an optional label, encoded as ``fmt`` (PNG, JPEG or GIF)."""
    image = Image.new("RGB", (width, height), color)
    if label:
        ImageDraw.Draw(image).text((4, 4), label, fill="white")
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def png(**options) -> bytes:
    return picture(fmt="PNG", **options)


def jpeg(**options) -> bytes:
    return picture(fmt="JPEG", **options)


def mp3(*, size: int = 2048) -> bytes:
    """An ID3-tagged MP3 stand-in of ``size`` bytes (the header WeChat's type check looks at)."""
    return (b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * size)[:size]


def mp4(*, size: int = 4096) -> bytes:
    """An MP4 stand-in of ``size`` bytes: an ``ftyp`` box, then padding."""
    return (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * size)[:size]
