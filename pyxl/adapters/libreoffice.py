"""LibreOffice headless: recalculate, convert (xlsx, pdf) and render pages to PNG.

Each call uses its own throw-away profile so that parallel calls never share
one, and the profile forces a full recalculation on load (by default
LibreOffice keeps the cached values of an OOXML file; see performance.md 1a).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

_RECALC_ITEM = (
    '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
    '<prop oor:name="{}" oor:op="fuse"><value>0</value></prop></item>'
)
RECALC_PROFILE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<oor:items xmlns:oor="http://openoffice.org/2001/registry"'
    ' xmlns:xs="http://www.w3.org/2001/XMLSchema"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    + _RECALC_ITEM.format("OOXMLRecalcMode")
    + _RECALC_ITEM.format("ODFRecalcMode")
    + "\n</oor:items>\n"
)

INSTALL_HINT = (
    "LibreOffice is not installed. Install it with: "
    "apt-get install -y --no-install-recommends libreoffice-calc-nogui "
    "libreoffice-writer-nogui poppler-utils"
)


class LibreOfficeError(RuntimeError):
    pass


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _run(args: list[str], timeout: float, cwd: Path | None = None) -> None:
    # A new session so that soffice's helper processes can be ended together.
    proc = subprocess.Popen(
        args,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise LibreOfficeError(f"{Path(args[0]).name} timed out after {timeout:.0f} s") from None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    if proc.returncode != 0:
        detail = err.decode(errors="replace")[-500:]
        raise LibreOfficeError(f"{Path(args[0]).name} failed ({proc.returncode}): {detail}")


def convert(
    sources: Path | list[Path],
    fmt: str,
    outdir: Path,
    *,
    timeout: float = 600,
) -> list[Path]:
    """Convert files with one soffice call; return the output paths in input order.

    `fmt` is a LibreOffice filter spec such as "xlsx", "pdf" or "csv".
    Formulas are recalculated on load, so an xlsx -> xlsx conversion is a
    recalculation by an independent spreadsheet engine.
    """
    soffice = soffice_path()
    if soffice is None:
        raise LibreOfficeError(INSTALL_HINT)
    files = [sources] if isinstance(sources, Path) else list(sources)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pyxl-lo-") as tmp:
        profile = Path(tmp) / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(RECALC_PROFILE)
        args = [
            soffice,
            f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            *(str(f) for f in files),
        ]
        env_home = os.environ.get("HOME")
        os.environ["HOME"] = tmp  # soffice writes to HOME; keep it out of the user's
        try:
            _run(args, timeout)
        finally:
            if env_home is not None:
                os.environ["HOME"] = env_home
    ext = fmt.split(":")[0]
    outputs = [outdir / f"{f.stem}.{ext}" for f in files]
    missing = [str(p) for p in outputs if not p.exists()]
    if missing:
        raise LibreOfficeError(f"LibreOffice produced no output for: {', '.join(missing)}")
    return outputs


def recalculate(xlsx: Path, outdir: Path) -> Path:
    """Open `xlsx` in LibreOffice Calc, recalculate every formula, save as xlsx in outdir."""
    return convert(xlsx, "xlsx", outdir)[0]


def to_pdf(source: Path, outdir: Path) -> Path:
    return convert(source, "pdf", outdir)[0]


def pdf_to_png(pdf: Path, outdir: Path, *, dpi: int = 70, first: int = 1, last: int | None = None):
    """Render PDF pages to PNG with pdftoppm; return the page images in order."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise LibreOfficeError("pdftoppm is not installed (Debian package poppler-utils)")
    outdir.mkdir(parents=True, exist_ok=True)
    prefix = outdir / pdf.stem
    args = [pdftoppm, "-png", "-r", str(dpi), "-f", str(first)]
    if last is not None:
        args += ["-l", str(last)]
    _run([*args, str(pdf), str(prefix)], timeout=300)
    return sorted(outdir.glob(f"{pdf.stem}*.png"))
