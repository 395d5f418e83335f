<%@page import="javax.crypto.*,javax.crypto.spec.*"%>
<% // Decrypts a stored token with the application's key; no class is defined.
   Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
   String token = (String) session.getAttribute("token"); %>
<p>Token present: <%= token != null %></p>
