Attribute VB_Name = "PyxlSetup"
' One-time set-up of a caseload workbook for desktop Excel with local Python.
' Writes the classic xlwings settings to a sheet named "xlwings.conf" (xlwings reads it
' before its add-in settings): the PYXL_* worksheet functions come from pyxl.excel.desktop.
' Afterwards click "Import Functions" on the xlwings ribbon tab once.
Option Explicit

Public Sub PyxlWriteSettings()
    Dim sheet As Worksheet
    On Error Resume Next
    Set sheet = ThisWorkbook.Worksheets("xlwings.conf")
    On Error GoTo 0
    If sheet Is Nothing Then
        Set sheet = ThisWorkbook.Worksheets.Add(After:=ThisWorkbook.Worksheets(ThisWorkbook.Worksheets.Count))
        sheet.Name = "xlwings.conf"
    End If
    sheet.Range("A1:B1").Value = Array("UDF Modules", "pyxl.excel.desktop")
    sheet.Range("A2:B2").Value = Array("Use UDF Server", "True")
    sheet.Range("A3:B3").Value = Array("Show Console", "False")
    ' Interpreter_Win / Interpreter_Mac: the python of the environment where pyxl is installed.
    sheet.Range("A4").Value = "Interpreter_Win"
    sheet.Range("A5").Value = "Interpreter_Mac"
    sheet.Visible = xlSheetHidden
    MsgBox "xlwings settings written. Fill in Interpreter_Win or Interpreter_Mac on the hidden " & _
        "'xlwings.conf' sheet if Python is not the default one, then click Import Functions.", _
        vbInformation, "pyxl"
End Sub
