Attribute VB_Name = "PyxlButtons"
' pyxl buttons for desktop Excel with local Python (classic xlwings).
' Assign these macros to buttons (Developer > Insert > Button). Each one calls the same
' Python entry point as the add-in's button: pyxl.excel.desktop, through RunPython.
Option Explicit

Private Const PYXL As String = "import pyxl.excel.desktop as pyxl_desktop; pyxl_desktop."

' Recompute every deadline; rewrite the Due List, Errors, Supervisor and grey columns.
Public Sub PyxlRefreshDueList()
    RunPython PYXL & "refresh_due_list('all')"
End Sub

' Recompute only the clients on the selected rows (Clients, Due List or any sheet with a
' Case ID column); other rows stay as they are.
Public Sub PyxlRefreshSelected()
    RunPython PYXL & "refresh_due_list('selected')"
End Sub

' Log a contact for the client on the selected row: a few questions, then one new
' Contacts row, checked like a typed one.
Public Sub PyxlLogContact()
    Dim contactDate As String, method As String, successful As String, notes As String
    contactDate = InputBox("Date of the contact (YYYY-MM-DD)", "Log contact", Format(Date, "yyyy-mm-dd"))
    If contactDate = "" Then Exit Sub
    method = InputBox("Method (In person, Phone, Home visit, School visit, Letter, Postcard, E-mail, Text, Voicemail)", "Log contact", "Phone")
    If method = "" Then Exit Sub
    successful = InputBox("Successful two-way contact? (Yes/No)", "Log contact", "Yes")
    If successful = "" Then Exit Sub
    notes = InputBox("Notes (optional)", "Log contact")
    RunPython PYXL & "log_contact(" & PyStr(contactDate) & ", " & PyStr(method) & ", " & _
        PyStr(successful) & ", '', '', " & PyStr(notes) & ", " & PyStr(Application.UserName) & ")"
End Sub

' Today's letter queue: shown for OK/Cancel, then one PDF in a letters folder beside the
' workbook, and every new letter logged on the Letters and Contacts sheets.
Public Sub PyxlGenerateLetters()
    RunPython PYXL & "generate_letters('all')"
End Sub

' The letters due for the clients on the selected rows, the same way.
Public Sub PyxlGenerateLettersSelected()
    RunPython PYXL & "generate_letters('selected')"
End Sub

' The supervisor report from this workbook: report-DATE.xlsx beside the workbook.
Public Sub PyxlBuildReport()
    RunPython PYXL & "build_report()"
End Sub

' A VBA string as a Python string literal (quotes, backslashes and line breaks escaped).
Private Function PyStr(ByVal text As String) As String
    text = Replace(text, "\", "\\")
    text = Replace(text, "'", "\'")
    text = Replace(text, vbCr, "\r")
    text = Replace(text, vbLf, "\n")
    PyStr = "'" & text & "'"
End Function
