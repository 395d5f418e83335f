<%
' Includes the footer page the classic way; Server.Execute runs a page of the site.
Dim title
title = Server.HTMLEncode(Request.QueryString("title"))
Response.Write "<h1>" & title & "</h1>"
Server.Execute("footer.asp")
' A sub of the site whose name begins with Execute.
Call ExecuteQueue(items)
%>
