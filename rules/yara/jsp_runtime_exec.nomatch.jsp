<%@ page import="java.util.*" %>
<% String name = request.getParameter("name"); %>
<p>Hello, <%= org.apache.commons.text.StringEscapeUtils.escapeHtml4(name == null ? "" : name) %></p>
<p>Served at <%= new Date() %></p>
