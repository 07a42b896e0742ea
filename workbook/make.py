"""Rebuild what is in workbook/: the office's starting workbook, the add-in manifest template
and the screenshots in workbook/README.md.

    .venv/bin/python workbook/make.py                # caseload.xlsx and pyxl-manifest.xml
    .venv/bin/python workbook/make.py --screenshots  # also screenshots/*.png (LibreOffice)

caseload.xlsx is exactly what `pyxl new caseload.xlsx --as-of 2026-12-01` writes (a test
rebuilds it and compares it sheet by sheet). The screenshots show it after a Refresh on
that day: LibreOffice prints each sheet to PDF, pdftoppm turns the first page into a PNG.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = dt.date(2026, 12, 1)
MORNING = dt.datetime(AS_OF.year, AS_OF.month, AS_OF.day, 8, 5, tzinfo=dt.UTC)
WORKBOOK = HERE / "caseload.xlsx"
MANIFEST = HERE / "pyxl-manifest.xml"
SCREENSHOTS = HERE / "screenshots"
# The address the office replaces with its own pyxl server's (workbook/README.md).
SERVER = "pyxl.your-office.example"
# screenshot file -> sheet, and for a wide sheet the top-left corner shown (width and height
# in points, resolution in dots per inch)
SHOWN: dict[str, tuple[str, tuple[int, int, int] | None]] = {
    "how-to-use": ("How to use", None),
    "due-list": ("Due List", None),
    "clients": ("Clients", (300, 110, 220)),
    "branches": ("Branches", (760, 150, 100)),
    "settings": ("Settings", (792, 300, 110)),
}
DPI = 80


def build_workbook(path: Path) -> Path:
    from pyxl.services.new_workbook import create_workbook, example_rows

    path.unlink(missing_ok=True)
    return create_workbook(path, as_of=AS_OF, rows=example_rows(AS_OF))


def build_manifest(path: Path) -> Path:
    """The add-in manifest as the pyxl server renders it for https://SERVER."""
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    os.environ["XLWINGS_HOSTNAME"] = SERVER
    from fastapi.testclient import TestClient

    from pyxl.excel.server import app

    with TestClient(app(), base_url=f"https://{SERVER}") as client:
        response = client.get("/manifest.xml", headers={"X-Forwarded-Proto": "https"})
        response.raise_for_status()
    path.write_text(response.text, encoding="utf-8")
    return path


def only_sheet(source: Path, target: Path, keep: str) -> Path:
    """A copy in which every sheet but `keep` is hidden, so the PDF shows that sheet only."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/workbook.xml":
                names = re.findall(r'<sheet [^>]*name="([^"]*)"', data.decode())

                def hide(m: re.Match[str]) -> str:
                    tag = m.group(0)
                    if f'name="{keep}"' in tag or "state=" in tag:
                        return tag
                    return tag.replace("<sheet ", '<sheet state="hidden" ', 1)

                text = re.sub(r"<sheet [^>]*/>", hide, data.decode())
                text = re.sub(r'\s+activeTab="\d+"', "", text)
                active = f'<workbookView activeTab="{names.index(keep)}" '
                text = text.replace("<workbookView ", active, 1)
                data = text.encode()
            z.writestr(info, data)
    return target


def build_screenshots(folder: Path) -> list[Path]:
    from pyxl.adapters import libreoffice
    from pyxl.services.recompute import recompute

    os.environ["LOGNAME"] = "jdoe"  # the Refresh pictured is by a made-up user
    folder.mkdir(exist_ok=True)
    made = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        refreshed = shutil.copy(WORKBOOK, work / "caseload.xlsx")
        recompute(Path(refreshed), AS_OF)
        for name, (sheet, corner) in SHOWN.items():
            copy = only_sheet(Path(refreshed), work / f"{name}.xlsx", sheet)
            pdf = libreoffice.to_pdf(copy, work / "pdf")
            target = folder / f"{name}.png"
            if corner is None:
                png = libreoffice.pdf_to_png(pdf, work / "png", dpi=DPI, first=1, last=1)[0]
                made.append(Path(shutil.copy(png, target)))
            else:  # a wide sheet printed small: its corner, larger
                *size, dpi = corner
                width, height = (round(v * dpi / 72) for v in size)
                crop = ["-x", "0", "-y", "0", "-W", str(width), "-H", str(height)]
                args = ["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", *crop]
                subprocess.run(
                    [*args, "-singlefile", str(pdf), str(target.with_suffix(""))], check=True
                )
                made.append(target)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshots", action="store_true", help="also render the PNGs")
    args = parser.parse_args(argv)
    # Reproducible: the same bytes on every rebuild (creation time, the Refresh pictured).
    os.environ["SOURCE_DATE_EPOCH"] = str(int(MORNING.timestamp()))
    print(build_workbook(WORKBOOK))
    print(build_manifest(MANIFEST))
    if args.screenshots:
        for png in build_screenshots(SCREENSHOTS):
            print(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
