<%@ Page Language="C#" %>
<%-- A status page: the request is read, never evaluated. --%>
<% Response.Write(Server.HtmlEncode(Request.Item["status"] ?? "ok")); %>
