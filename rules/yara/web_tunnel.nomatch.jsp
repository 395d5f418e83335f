<%@page import="java.net.*"%>
<% // A health check of the site's own database port.
   boolean up;
   try (Socket s = new Socket("127.0.0.1", 5432)) { up = true; } catch (Exception e) { up = false; }
   response.setHeader("Cache-Control", "no-store"); %>
<%= up ? "up" : "down" %>
