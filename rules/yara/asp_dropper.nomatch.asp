<%
' Fetches the exchange rate for display; nothing is written to disk.
Set x = CreateObject("MSXML2.ServerXMLHTTP")
x.Open "GET", "https://api.example.com/rates", False
x.Send
Response.Write Server.HTMLEncode(x.ResponseText)
%>
