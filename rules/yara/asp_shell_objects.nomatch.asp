<%
' Reads a fixed template; the request only picks the language.
Set fso = CreateObject("Scripting.FileSystemObject")
lang = Request.QueryString("lang")
If lang <> "de" Then lang = "en"
Set f = fso.OpenTextFile(Server.MapPath("templates/welcome." & lang & ".txt"), 1)
Response.Write f.ReadAll()
%>
