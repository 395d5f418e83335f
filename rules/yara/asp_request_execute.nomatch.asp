<%
' Echoes a name back, encoded; nothing from the request is run.
Dim name
name = Server.HTMLEncode(Request.Form("name"))
Response.Write "Hello, " & name
%>
