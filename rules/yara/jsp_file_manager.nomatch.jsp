<%@ page import="java.io.*" %>
<% // Lists the site's own report directory; the request only picks the sort order.
   String order = request.getParameter("order");
   File dir = new File(application.getRealPath("/reports"));
   String[] names = dir.list();
   if (names != null) { java.util.Arrays.sort(names); for (String n : names) out.println(n); } %>
