"""The add-in's buttons: one registry drives the task pane, the ribbon and the manifest.

Adding a button is one `Button(...)` entry in BUTTONS plus, if it runs new
work, one `@script` function below that calls a service. The task pane
template, the ribbon commands (pyxl.js) and the manifest's ribbon group are
all generated from BUTTONS; a test checks every entry names a script that
exists. Letters and the supervisor report are not here yet: their services
are being built on other branches (see README, "Adding a button").
"""

from __future__ import annotations

from dataclasses import dataclass

from xlwings.server import script

from pyxl.excel import scripts


@dataclass(frozen=True)
class Button:
    id: str  # HTML id, ribbon control id and Office.actions id
    label: str
    script: str  # the custom script it runs
    tooltip: str
    args: tuple[str, ...] = ()  # fixed arguments; "{today}" is the user's local date
    form: str | None = None  # a task-pane form whose fields are the script's arguments
    form_fields: tuple[str, ...] = ()  # the form's field names, in the script's order
    ribbon: bool = True  # also on the ribbon (a form button opens the task pane there)


BUTTONS: tuple[Button, ...] = (
    Button(
        "pyxl-refresh-all",
        "Refresh Due List",
        "refresh_due_list",
        "Recompute every deadline and rewrite the Due List, Errors and the grey Clients columns",
        args=("all", "{today}"),
    ),
    Button(
        "pyxl-refresh-selected",
        "Refresh selected clients",
        "refresh_due_list",
        "Recompute only the clients on the selected rows; other rows stay as they are",
        args=("selected", "{today}"),
    ),
    Button(
        "pyxl-log-contact",
        "Log contact",
        "log_contact",
        "Add a contact for the client on the selected row",
        form="contact",
        form_fields=("day", "method", "successful", "meaningful", "purpose", "notes", "staff"),
    ),
)


# The scripts are the functions in pyxl.excel.scripts themselves, registered for xlwings Server.
refresh_due_list = script(button=f"Due List!{scripts.BUTTON_CELL}")(scripts.refresh)
log_contact = script(scripts.log_contact)
